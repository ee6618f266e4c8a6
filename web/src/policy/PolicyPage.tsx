import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Tab from '@mui/material/Tab';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Tabs from '@mui/material/Tabs';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { isPlatformAdmin, useMe } from '../app/auth';
import { formatDateTime } from '../components/format';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import {
  useCheck,
  useCreateException,
  useDeleteException,
  useExceptions,
  usePolicies,
  usePolicyYaml,
  useViolations,
  type Decision,
  type EnforcementPoint,
  type PolicyView,
} from './api';

const tabs = ['policies', 'violations', 'playground', 'exceptions'] as const;
type TabName = (typeof tabs)[number];
const tabLabels: Record<TabName, string> = { policies: 'Policies', violations: 'Violations', playground: 'Playground', exceptions: 'Exceptions' };
const points: EnforcementPoint[] = ['deploy', 'provisioning', 'ci', 'catalog', 'scan'];

/** Guardrails: the policy set, who violates what, a playground to try a change, and exceptions. */
export function PolicyPage() {
  const [params, setParams] = useSearchParams();
  const requested = params.get('tab');
  const tab: TabName = tabs.includes(requested as TabName) ? (requested as TabName) : 'policies';
  return (
    <>
      <PageHeader title="Guardrails" subtitle="Policies judge every deploy, claim and pipeline result; Enforce denies, Audit reports." />
      <Tabs value={tab} onChange={(_e, value: TabName) => setParams({ tab: value }, { replace: true })} aria-label="Guardrail views" sx={{ mb: 2 }}>
        {tabs.map((name) => (
          <Tab key={name} value={name} label={tabLabels[name]} />
        ))}
      </Tabs>
      {tab === 'policies' && <PoliciesTab />}
      {tab === 'violations' && <ViolationsTab />}
      {tab === 'playground' && <PlaygroundTab />}
      {tab === 'exceptions' && <ExceptionsTab />}
    </>
  );
}

function ModeChip({ policy }: { policy: PolicyView }) {
  if (!policy.enabled) return <Chip size="small" label="Disabled" variant="outlined" />;
  const mode = policy.failureAction;
  return <Chip size="small" label={mode === 'mixed' ? 'Mixed' : mode} color={mode === 'Enforce' ? 'error' : mode === 'Audit' ? 'warning' : 'default'} variant="outlined" />;
}

function PoliciesTab() {
  const policies = usePolicies();
  const [shown, setShown] = useState<string | undefined>();
  return (
    <QueryState query={policies} label="policies">
      {(items) => (
        <>
          <TableContainer component={Paper} variant="outlined">
            <Table aria-label="Policies" size="small">
              <TableHead>
                <TableRow>
                  <TableCell>Policy</TableCell>
                  <TableCell>Mode</TableCell>
                  <TableCell>Points</TableCell>
                  <TableCell>Kind</TableCell>
                  <TableCell>Source</TableCell>
                  <TableCell align="right">Violations</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {items.map((policy) => (
                  <TableRow key={policy.name} hover>
                    <TableCell>
                      <Button size="small" sx={{ textTransform: 'none', fontWeight: 600, p: 0, minWidth: 0 }} onClick={() => setShown(policy.name)}>
                        {policy.name}
                      </Button>
                      {policy.description !== null && (
                        <Typography variant="body2" color="text.secondary" sx={{ maxWidth: 560 }}>
                          {policy.description}
                        </Typography>
                      )}
                    </TableCell>
                    <TableCell>
                      <ModeChip policy={policy} />
                    </TableCell>
                    <TableCell>{policy.points.join(', ')}</TableCell>
                    <TableCell>{policy.kind}</TableCell>
                    <TableCell>{policy.source === 'builtin' ? (policy.modified ? 'built-in (edited)' : 'built-in') : 'custom'}</TableCell>
                    <TableCell align="right">{policy.violations > 0 ? <Chip size="small" color="error" label={policy.violations} /> : 0}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
          <PolicyYamlDialog name={shown} onClose={() => setShown(undefined)} />
        </>
      )}
    </QueryState>
  );
}

function PolicyYamlDialog({ name, onClose }: { name: string | undefined; onClose: () => void }) {
  const yaml = usePolicyYaml(name);
  return (
    <Dialog open={name !== undefined} onClose={onClose} maxWidth="md" fullWidth aria-labelledby="policy-yaml-title">
      <DialogTitle id="policy-yaml-title">{name}</DialogTitle>
      <DialogContent>
        <QueryState query={yaml} label="the policy">
          {(text) => (
            <Box component="pre" aria-label={`${name ?? ''} YAML`} sx={{ m: 0, p: 2, bgcolor: 'action.hover', borderRadius: 1, overflow: 'auto', fontSize: 13 }}>
              {text}
            </Box>
          )}
        </QueryState>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}

function ViolationsTab() {
  const [owner, setOwner] = useState('');
  const [applied, setApplied] = useState('');
  const violations = useViolations(applied);
  return (
    <>
      <Box component="form" onSubmit={(e) => { e.preventDefault(); setApplied(owner); }} sx={{ display: 'flex', gap: 1, mb: 2 }}>
        <TextField size="small" label="Team" placeholder="payments" value={owner} onChange={(e) => setOwner(e.target.value)} />
        <Button type="submit" variant="outlined">Apply</Button>
      </Box>
      <QueryState query={violations} label="violations">
        {(items) =>
          items.length === 0 ? (
            <Alert severity="success">No violations{applied ? ` for ${applied}` : ''}: every latest decision passed.</Alert>
          ) : (
            <TableContainer component={Paper} variant="outlined">
              <Table aria-label="Violations" size="small">
                <TableHead>
                  <TableRow>
                    <TableCell>Object</TableCell>
                    <TableCell>Team</TableCell>
                    <TableCell>Policy / rule</TableCell>
                    <TableCell>Point</TableCell>
                    <TableCell>Message</TableCell>
                    <TableCell>When</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {items.map((v) => (
                    <TableRow key={`${v.subject}/${v.policy}/${v.rule}`}>
                      <TableCell>{v.subject}</TableCell>
                      <TableCell>{v.owner?.replace(/^group:default\//, '') ?? '—'}</TableCell>
                      <TableCell>
                        {v.policy}/{v.rule} <Chip size="small" variant="outlined" label={v.failureAction} />
                      </TableCell>
                      <TableCell>{v.point}</TableCell>
                      <TableCell sx={{ maxWidth: 480 }}>{v.message}</TableCell>
                      <TableCell>{formatDateTime(v.updatedAt)}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </TableContainer>
          )
        }
      </QueryState>
    </>
  );
}

const sampleManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: { owner: shop, cost-center: cc-1 }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: shop/web:latest
          resources:
            requests: { cpu: 100m, memory: 128Mi }
            limits: { memory: 256Mi }
`;

function PlaygroundTab() {
  const [point, setPoint] = useState<EnforcementPoint>('deploy');
  const [yaml, setYaml] = useState(sampleManifest);
  const check = useCheck();
  return (
    <Stack spacing={2}>
      <Typography variant="body2" color="text.secondary">
        Paste a manifest, a resource claim or a deploy request (several YAML documents are fine) and see every policy's decision. Nothing is recorded.
      </Typography>
      <Box component="form" onSubmit={(e) => { e.preventDefault(); check.mutate({ point, yaml }); }}>
        <Stack spacing={2}>
          <TextField select size="small" label="Enforcement point" value={point} onChange={(e) => setPoint(e.target.value as EnforcementPoint)} sx={{ maxWidth: 240 }}>
            {points.map((p) => (
              <MenuItem key={p} value={p}>{p}</MenuItem>
            ))}
          </TextField>
          <TextField label="Object YAML" multiline minRows={12} value={yaml} onChange={(e) => setYaml(e.target.value)} slotProps={{ htmlInput: { spellCheck: false, style: { fontFamily: 'monospace', fontSize: 13 } } }} />
          <Box>
            <Button type="submit" variant="contained" loading={check.isPending}>Check</Button>
          </Box>
        </Stack>
      </Box>
      {check.isError && <Alert severity="error">{check.error.message}</Alert>}
      {check.data?.map((decision, i) => <DecisionCard key={i} decision={decision} />)}
    </Stack>
  );
}

function DecisionCard({ decision }: { decision: Decision }) {
  const denied = new Set(decision.denials.map((d) => `${d.policy}/${d.rule}`));
  const notable = decision.results.filter((r) => r.status !== 'pass');
  const passed = decision.results.length - notable.length;
  return (
    <Paper variant="outlined" sx={{ p: 2 }} aria-label={`Decision for ${decision.object}`}>
      <Alert severity={decision.allowed ? 'success' : 'error'} sx={{ mb: notable.length > 0 ? 2 : 0 }}>
        {decision.object}: {decision.allowed ? 'allowed' : 'denied'} at {decision.point} ({passed} rule{passed === 1 ? '' : 's'} passed)
      </Alert>
      {notable.length > 0 && (
        <Table size="small" aria-label={`Results for ${decision.object}`}>
          <TableBody>
            {notable.map((r) => {
              const key = `${r.policy}/${r.rule}`;
              const label = denied.has(key) ? 'Denies' : r.exception !== undefined ? 'Excepted' : r.status === 'skip' ? 'Skipped' : `${r.status} (${r.failureAction})`;
              return (
                <TableRow key={key}>
                  <TableCell sx={{ width: 120 }}>
                    <Chip size="small" label={label} color={denied.has(key) ? 'error' : r.status === 'fail' || r.status === 'error' ? 'warning' : 'default'} />
                  </TableCell>
                  <TableCell sx={{ fontFamily: 'monospace', fontSize: 13 }}>{key}</TableCell>
                  <TableCell>{r.message}</TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      )}
    </Paper>
  );
}

function ExceptionsTab() {
  const me = useMe();
  const admin = isPlatformAdmin(me);
  const exceptions = useExceptions();
  const remove = useDeleteException();
  const [adding, setAdding] = useState(false);
  return (
    <>
      {admin && (
        <Box sx={{ mb: 2 }}>
          <Button variant="contained" onClick={() => setAdding(true)}>Grant exception</Button>
        </Box>
      )}
      {remove.isError && <Alert severity="error" sx={{ mb: 2 }}>{remove.error.message}</Alert>}
      <QueryState query={exceptions} label="exceptions">
        {(items) =>
          items.length === 0 ? (
            <Alert severity="info">No policy exceptions in force.</Alert>
          ) : (
            <TableContainer component={Paper} variant="outlined">
              <Table aria-label="Exceptions" size="small">
                <TableHead>
                  <TableRow>
                    <TableCell>Policy</TableCell>
                    <TableCell>Rules</TableCell>
                    <TableCell>Covers</TableCell>
                    <TableCell>Reason</TableCell>
                    <TableCell>Approved by</TableCell>
                    <TableCell>Expires</TableCell>
                    {admin && <TableCell />}
                  </TableRow>
                </TableHead>
                <TableBody>
                  {items.map((e) => (
                    <TableRow key={e.id}>
                      <TableCell>{e.policy}</TableCell>
                      <TableCell>{e.rules.length === 0 ? 'all' : e.rules.join(', ')}</TableCell>
                      <TableCell>
                        {[e.match.kinds && `kinds ${e.match.kinds.join(', ')}`, e.match.names && `names ${e.match.names.join(', ')}`, e.match.namespaces && `namespaces ${e.match.namespaces.join(', ')}`].filter(Boolean).join('; ')}
                      </TableCell>
                      <TableCell>{e.reason}</TableCell>
                      <TableCell>{e.approvedBy}</TableCell>
                      <TableCell>{formatDateTime(e.expiresAt)}</TableCell>
                      {admin && (
                        <TableCell align="right">
                          <Button size="small" color="error" aria-label={`Withdraw exception ${e.id}`} loading={remove.isPending && remove.variables === e.id} onClick={() => remove.mutate(e.id)}>
                            Withdraw
                          </Button>
                        </TableCell>
                      )}
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </TableContainer>
          )
        }
      </QueryState>
      {admin && <ExceptionDialog open={adding} onClose={() => setAdding(false)} />}
    </>
  );
}

const list = (text: string) => {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items.length > 0 ? items : undefined;
};

function ExceptionDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const policies = usePolicies();
  const create = useCreateException();
  const [policy, setPolicy] = useState('');
  const [rules, setRules] = useState('');
  const [kinds, setKinds] = useState('');
  const [names, setNames] = useState('');
  const [reason, setReason] = useState('');
  const [days, setDays] = useState('7');
  const close = () => {
    create.reset();
    onClose();
  };
  const submit = () =>
    create.mutate(
      {
        policy,
        rules: list(rules),
        match: { kinds: list(kinds), names: list(names) },
        reason,
        expiresAt: new Date(Date.now() + Number(days) * 86_400_000).toISOString(),
      },
      { onSuccess: close },
    );
  return (
    <Dialog open={open} onClose={close} maxWidth="sm" fullWidth aria-labelledby="exception-title">
      <Box component="form" onSubmit={(e) => { e.preventDefault(); submit(); }}>
        <DialogTitle id="exception-title">Grant a policy exception</DialogTitle>
        <DialogContent>
          <Stack spacing={2} sx={{ mt: 1 }}>
            {create.isError && <Alert severity="error">{create.error.message}</Alert>}
            <TextField select required label="Policy" value={policy} onChange={(e) => setPolicy(e.target.value)}>
              {(policies.data ?? []).map((p) => (
                <MenuItem key={p.name} value={p.name}>{p.name}</MenuItem>
              ))}
            </TextField>
            <TextField label="Rules" helperText="Comma-separated; empty means every rule" value={rules} onChange={(e) => setRules(e.target.value)} />
            <TextField label="Kinds" helperText="Comma-separated, wildcards allowed (Deployment, *)" value={kinds} onChange={(e) => setKinds(e.target.value)} />
            <TextField label="Names" helperText="Comma-separated, wildcards allowed (payments-*)" value={names} onChange={(e) => setNames(e.target.value)} />
            <TextField required label="Reason" multiline minRows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
            <TextField required label="Days" type="number" value={days} onChange={(e) => setDays(e.target.value)} slotProps={{ htmlInput: { min: 1, max: 366 } }} />
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="contained" loading={create.isPending}>Grant</Button>
        </DialogActions>
      </Box>
    </Dialog>
  );
}
