import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
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
import { useMe } from '../app/auth';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useClaims, useModules, type ClaimView, type ModuleView } from './api';
import { describeInputs, formatMonthly, menuEntries, ownerGroups, phaseTone, presetMonthly, presetNames, presetValues, teamName } from './view';

/** /resources: the menu of modules with presets and prices; /resources/mine: the claims of the user's teams. */
export function ResourcesPage({ tab }: { tab: 'menu' | 'mine' }) {
  return (
    <>
      <PageHeader title="Resources" subtitle="Databases, caches, queues, streams and secrets from a pre-approved menu, provisioned in seconds on the platform's servers." />
      <Tabs value={tab} aria-label="Resource views" sx={{ mb: 2 }}>
        <Tab value="menu" label="Menu" component={RouterLink} to="/resources" />
        <Tab value="mine" label="My resources" component={RouterLink} to="/resources/mine" />
      </Tabs>
      {tab === 'menu' ? <ModuleMenu /> : <MyClaims />}
    </>
  );
}

function ModuleMenu() {
  const modules = useModules();
  return (
    <QueryState query={modules} label="the resource menu">
      {(items) =>
        items.length === 0 ? (
          <Alert severity="info">No modules yet: platform admins add them to modules/ or publish them with POST /api/resources/modules.</Alert>
        ) : (
          <Box component="ul" aria-label="Modules" sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', lg: '1fr 1fr' } }}>
            {menuEntries(items).map(({ current, versions }) => (
              <li key={current.name}>
                <ModuleCard module={current} versions={versions} />
              </li>
            ))}
          </Box>
        )
      }
    </QueryState>
  );
}

function ModuleCard({ module, versions }: { module: ModuleView; versions: ModuleView[] }) {
  const older = versions.filter((v) => v !== module);
  return (
    <Paper component="article" variant="outlined" aria-label={module.title} sx={{ p: 2, height: '100%', display: 'flex', flexDirection: 'column', gap: 1 }}>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, flexWrap: 'wrap' }}>
        <Typography variant="h6" component="h2" sx={{ flex: 1 }}>
          {module.title}
        </Typography>
        <Chip size="small" label={`${module.name}@${module.version}`} variant="outlined" />
        <Chip size="small" label={module.provider} />
      </Box>
      {module.description !== '' && (
        <Typography variant="body2" color="text.secondary">
          {module.description}
        </Typography>
      )}
      {module.deprecation !== null && (
        <Alert severity="warning" role="status">
          Deprecated: use {module.deprecation.successor}.{module.deprecation.message !== undefined ? ` ${module.deprecation.message}` : ''}
        </Alert>
      )}
      <Table size="small" aria-label={`${module.title} presets`}>
        <TableHead>
          <TableRow>
            <TableCell>Preset</TableCell>
            <TableCell>Inputs</TableCell>
            <TableCell align="right">Monthly</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {presetNames.map((preset) => (
            <TableRow key={preset}>
              <TableCell>
                {preset}
                {preset === module.defaultPreset ? ' (default)' : ''}
              </TableCell>
              <TableCell sx={{ fontFamily: 'monospace', fontSize: 13 }}>{describeInputs(presetValues(module, preset))}</TableCell>
              <TableCell align="right">{formatMonthly(presetMonthly(module, preset), module.cost.currency)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Typography variant="body2" color="text.secondary">
        Outputs: {module.outputs.join(', ')}. Backups: {module.backup.schedule !== null ? `${module.backup.schedule} (UTC), kept ${module.backup.retentionDays} days` : 'on delete only'}.
        {module.drift.repair ? ' Drift is repaired automatically.' : ''}
      </Typography>
      {older.length > 0 && (
        <Typography variant="body2" color="text.secondary">
          Other versions:{' '}
          {older.map((v) => `${v.version}${v.deprecation !== null ? ` (deprecated, use ${v.deprecation.successor})` : ''}`).join(', ')}
        </Typography>
      )}
      <Box sx={{ mt: 'auto', pt: 1 }}>
        <Button component={RouterLink} to={`/resources/claim/${encodeURIComponent(module.name)}`} variant="contained" aria-label={`Claim ${module.title}`}>
          Claim
        </Button>
      </Box>
    </Paper>
  );
}

const ALL = 'all';
const MINE = 'mine';

/** The claims of the user's teams (or one team, or all), newest first, with status and cost. */
function MyClaims() {
  const me = useMe();
  const groups = ownerGroups(me);
  const [params, setParams] = useSearchParams();
  const requested = params.get('owner');
  const selected = requested !== null && (requested === ALL || groups.includes(requested)) ? requested : groups.length > 0 ? MINE : ALL;
  const claims = useClaims(selected === ALL ? undefined : selected === MINE ? groups : [selected]);
  return (
    <>
      <Box sx={{ display: 'flex', gap: 2, mb: 2, alignItems: 'center', flexWrap: 'wrap' }}>
        <TextField select size="small" label="Owner" value={selected} onChange={(e) => setParams({ owner: e.target.value }, { replace: true })} sx={{ minWidth: 220 }}>
          {groups.length > 0 && <MenuItem value={MINE}>My teams</MenuItem>}
          {groups.map((g) => (
            <MenuItem key={g} value={g}>
              {teamName(g)}
            </MenuItem>
          ))}
          <MenuItem value={ALL}>All teams</MenuItem>
        </TextField>
        <Button component={RouterLink} to="/resources" variant="outlined">
          Claim a resource
        </Button>
      </Box>
      <QueryState query={claims} label="resource claims">
        {(items) =>
          items.length === 0 ? (
            <Alert severity="info">No resource claims{selected === ALL ? '' : ' for your teams'} yet: pick one from the menu.</Alert>
          ) : (
            <ClaimTable claims={items} />
          )
        }
      </QueryState>
    </>
  );
}

function ClaimTable({ claims }: { claims: ClaimView[] }) {
  const totals = new Map<string, number>();
  for (const c of claims) if (c.phase !== 'deleting') totals.set(c.cost.currency, (totals.get(c.cost.currency) ?? 0) + c.cost.monthly);
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table size="small" aria-label="Resource claims">
        <TableHead>
          <TableRow>
            <TableCell>Name</TableCell>
            <TableCell>Environment</TableCell>
            <TableCell>Module</TableCell>
            <TableCell>Preset</TableCell>
            <TableCell>Owner</TableCell>
            <TableCell>Status</TableCell>
            <TableCell>Drift</TableCell>
            <TableCell align="right">Monthly</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {claims.map((c) => (
            <TableRow key={c.id} hover>
              <TableCell>
                <Link component={RouterLink} to={`/resources/claims/${encodeURIComponent(c.id)}`}>
                  {c.name}
                </Link>
              </TableCell>
              <TableCell>{c.environment}</TableCell>
              <TableCell>
                {c.module}@{c.version}
              </TableCell>
              <TableCell>{c.preset}</TableCell>
              <TableCell>{teamName(c.owner)}</TableCell>
              <TableCell>
                <Chip size="small" label={c.phase} color={phaseTone[c.phase]} />
              </TableCell>
              <TableCell>{c.drift === null ? '—' : <Chip size="small" color="warning" label={`${c.drift.problems.length} drifted`} />}</TableCell>
              <TableCell align="right">{formatMonthly(c.cost.monthly, c.cost.currency)}</TableCell>
            </TableRow>
          ))}
          {[...totals.entries()].map(([currency, monthly]) => (
            <TableRow key={currency}>
              <TableCell colSpan={7} sx={{ fontWeight: 500 }}>
                Total{totals.size > 1 ? ` (${currency})` : ''}
              </TableCell>
              <TableCell align="right" sx={{ fontWeight: 500 }}>
                {formatMonthly(Math.round(monthly * 100) / 100, currency)}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
