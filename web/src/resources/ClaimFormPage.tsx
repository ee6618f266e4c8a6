import { useMemo, useState } from 'react';
import { Link as RouterLink, useNavigate, useParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import TextField from '@mui/material/TextField';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import Form from '@rjsf/mui';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';
import { useMe } from '../app/auth';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useCreateClaim, useModule, usePlan, type CreateClaimBody, type ModuleView } from './api';
import { PlanPanel } from './PlanPanel';
import { changedInputs, formatMonthly, inputTitle, ownerGroups, presetMonthly, presetNames, presetValues, type PresetName } from './view';

type Values = Record<string, unknown>;

/** rjsf's form data is untyped; the inputs' root is always an object. */
function asValues(data: unknown): Values {
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Values) : {};
}

/** The server's rule for claim and environment names (`[a-z](-?[a-z0-9])*`), checked as the user types. */
const segment = /^[a-z](-?[a-z0-9])*$/;
function nameProblem(value: string, what: string, max: number): string | undefined {
  if (value === '') return undefined;
  if (value.length > max) return `${what} is at most ${max} characters`;
  return segment.test(value) ? undefined : `${what} is lower-case letters, digits and single "-", starting with a letter`;
}

/** /resources/claim/:module: the claim form, the plan shown before anything is applied, then the claim. */
export function ClaimFormPage() {
  const { module: name = '' } = useParams();
  const module = useModule(name);
  return (
    <QueryState query={module} label="the module">
      {(m) => <ClaimForm key={`${m.name}@${m.version}`} module={m} />}
    </QueryState>
  );
}

function uiSchemaOf(module: ModuleView): UiSchema {
  const properties = module.inputs.properties;
  const ui: UiSchema = { 'ui:submitButtonOptions': { norender: true } };
  if (typeof properties === 'object' && properties !== null) {
    for (const [key, property] of Object.entries(properties)) {
      if (typeof property === 'object' && property !== null && !('title' in property)) ui[key] = { 'ui:title': inputTitle(key) };
    }
  }
  return ui;
}

function ClaimForm({ module }: { module: ModuleView }) {
  const me = useMe();
  const groups = ownerGroups(me);
  const navigate = useNavigate();
  const [claimName, setClaimName] = useState('');
  const [environment, setEnvironment] = useState('staging');
  const [preset, setPreset] = useState<PresetName>(module.defaultPreset);
  const [owner, setOwner] = useState(groups[0] ?? '');
  const [costCenter, setCostCenter] = useState('');
  const [values, setValues] = useState<Values>(() => presetValues(module, module.defaultPreset));
  const plan = usePlan();
  const create = useCreateClaim();
  const schema = module.inputs as RJSFSchema;
  const uiSchema = useMemo(() => uiSchemaOf(module), [module]);

  const body: CreateClaimBody = {
    module: module.name,
    version: module.version,
    name: claimName.trim(),
    environment: environment.trim(),
    preset,
    inputs: changedInputs(module, preset, values),
    tags: { ...(owner.trim() !== '' ? { owner: owner.trim() } : {}), ...(costCenter.trim() !== '' ? { 'cost-center': costCenter.trim() } : {}) },
  };
  const bodyKey = JSON.stringify(body);
  // The plan shown belongs to the values it was made for; any change asks for a new plan before claiming.
  const [plannedKey, setPlannedKey] = useState<string | undefined>();
  const [planNumber, setPlanNumber] = useState(0);
  const planIsCurrent = plan.data !== undefined && plannedKey === bodyKey;
  const nameError = nameProblem(claimName, 'a claim name', 30);
  const environmentError = nameProblem(environment, 'an environment name', 20);

  const runPlan = () => {
    create.reset();
    setPlannedKey(bodyKey);
    setPlanNumber((n) => n + 1);
    plan.mutate(body);
  };
  const runClaim = () =>
    create.mutate(body, { onSuccess: ({ claim }) => navigate(`/resources/claims/${encodeURIComponent(claim.id)}`) });
  const choosePreset = (next: PresetName) => {
    setPreset(next);
    setValues(presetValues(module, next));
  };
  const error = create.error ?? (plannedKey === bodyKey ? plan.error : null);

  return (
    <>
      <PageHeader
        title={`Claim ${module.title}`}
        subtitle={
          <>
            {module.name}@{module.version} on {module.provider}. Plan first: nothing is created until you claim. <Link component={RouterLink} to="/resources">Back to the menu</Link>
          </>
        }
      />
      {module.deprecation !== null && (
        <Alert severity="warning" sx={{ mb: 2 }}>
          This module is deprecated: use {module.deprecation.successor}.{module.deprecation.message !== undefined ? ` ${module.deprecation.message}` : ''}
        </Alert>
      )}
      <Box sx={{ display: 'flex', gap: 3, alignItems: 'flex-start', flexWrap: 'wrap' }}>
        <Paper variant="outlined" component="section" aria-label="Claim form" sx={{ p: 3, flex: '1 1 420px', maxWidth: 640 }}>
          <Box sx={{ display: 'grid', gap: 2 }}>
            <TextField label="Name" required value={claimName} onChange={(e) => setClaimName(e.target.value)} error={nameError !== undefined} helperText={nameError ?? 'e.g. orders-db; unique in its environment'} />
            <TextField label="Environment" required value={environment} onChange={(e) => setEnvironment(e.target.value)} error={environmentError !== undefined} helperText={environmentError ?? 'e.g. staging or production'} />
            <Box>
              <Typography variant="body2" color="text.secondary" id="preset-label" sx={{ mb: 0.5 }}>
                Preset
              </Typography>
              <ToggleButtonGroup exclusive value={preset} onChange={(_e, next: PresetName | null) => next !== null && choosePreset(next)} aria-labelledby="preset-label" size="small">
                {presetNames.map((p) => (
                  <ToggleButton key={p} value={p} aria-label={`${p}, ${formatMonthly(presetMonthly(module, p), module.cost.currency)}`}>
                    {p} · {formatMonthly(presetMonthly(module, p), module.cost.currency)}
                  </ToggleButton>
                ))}
              </ToggleButtonGroup>
            </Box>
            {groups.length > 0 ? (
              <TextField select label="Owner" required value={owner} onChange={(e) => setOwner(e.target.value)} helperText="The team that owns and pays for it">
                {groups.map((g) => (
                  <MenuItem key={g} value={g}>
                    {g}
                  </MenuItem>
                ))}
              </TextField>
            ) : (
              <TextField label="Owner" required value={owner} onChange={(e) => setOwner(e.target.value)} helperText="A group such as group:default/team-a (you belong to no group)" />
            )}
            <TextField label="Cost center" required={module.requiredTags.includes('cost-center')} value={costCenter} onChange={(e) => setCostCenter(e.target.value)} helperText="e.g. cc-42" />
          </Box>
          <Typography variant="h6" component="h2" sx={{ mt: 3, mb: 1 }}>
            Inputs
          </Typography>
          <Form
            schema={schema}
            uiSchema={uiSchema}
            formData={values}
            validator={validator}
            showErrorList={false}
            noHtml5Validate
            onChange={(event) => setValues(asValues(event.formData))}
            onSubmit={(event) => {
              setValues(asValues(event.formData));
              runPlan();
            }}
          >
            <Box sx={{ display: 'flex', gap: 1, mt: 3 }}>
              <Button type="submit" variant="outlined" loading={plan.isPending} disabled={nameError !== undefined || environmentError !== undefined}>
                Plan
              </Button>
              <Button
                variant="contained"
                onClick={runClaim}
                loading={create.isPending}
                disabled={!planIsCurrent || plan.data?.decision.allowed !== true}
                title={!planIsCurrent ? 'Plan these values first' : undefined}
              >
                Claim
              </Button>
            </Box>
          </Form>
          {error !== null && (
            <Alert severity="error" sx={{ mt: 2 }} role="alert">
              {error.message}
            </Alert>
          )}
        </Paper>
        <Box sx={{ flex: '1 1 420px', maxWidth: 640 }}>
          {plan.data !== undefined && planIsCurrent ? (
            <PlanPanel plan={plan.data} planNumber={planNumber} costCenter={body.tags['cost-center'] ?? ''} />
          ) : (
            <Alert severity="info">{plan.data !== undefined ? 'The values changed: plan again to see what will be created.' : 'Plan to see what will be created, its monthly cost and the guardrails’ decision.'}</Alert>
          )}
        </Box>
      </Box>
    </>
  );
}
