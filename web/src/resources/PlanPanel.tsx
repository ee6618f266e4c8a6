import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { FactList } from '../components/FactList';
import { useBudgetCheck, type PlanView } from './api';
import { budgetLines, describeInputs, formatMonthly } from './view';

/** What a claim would do: the guardrails' decision, its monthly cost against the budgets, what is created, and its outputs. */
export function PlanPanel({ plan, planNumber, costCenter }: { plan: PlanView; planNumber: number; costCenter: string }) {
  const owner = plan.tags.owner ?? '';
  return (
    <Paper variant="outlined" component="section" aria-label="Plan" sx={{ p: 3, display: 'grid', gap: 2 }}>
      <Typography variant="h6" component="h2">
        Plan: {plan.name} in {plan.environment}
      </Typography>
      {plan.decision.allowed ? (
        <Alert severity="success" aria-label="Decision">
          Allowed by the guardrails
        </Alert>
      ) : (
        <Alert severity="error" aria-label="Decision">
          <AlertTitle>Denied by the guardrails: nothing will be created</AlertTitle>
          <Box component="ul" sx={{ m: 0, pl: 2 }}>
            {plan.decision.denials.map((d) => (
              <li key={`${d.policy}/${d.rule}`}>
                {d.policy}/{d.rule}: {d.message}
              </li>
            ))}
          </Box>
        </Alert>
      )}
      {plan.warnings.map((w) => (
        <Alert key={w} severity="warning">
          {w}
        </Alert>
      ))}
      <FactList
        rows={[
          ['Module', `${plan.module}@${plan.version} (${plan.provider})`],
          ['Preset', plan.preset],
          ['Inputs', describeInputs(plan.inputs)],
          ['Owner', owner],
          ['Cost center', plan.tags['cost-center'] ?? '—'],
          ['Monthly cost', formatMonthly(plan.cost.monthly, plan.cost.currency)],
        ]}
      />
      <BudgetCheck owner={owner} costCenter={costCenter} monthly={plan.cost.monthly} planNumber={planNumber} />
      <Box>
        <Typography variant="subtitle2" component="h3">
          Will create
        </Typography>
        <Box component="ol" aria-label="Will create" sx={{ m: 0, pl: 3 }}>
          {plan.creates.map((c) => (
            <li key={c}>
              <Typography variant="body2">{c}</Typography>
            </li>
          ))}
        </Box>
      </Box>
      <Typography variant="body2" color="text.secondary">
        Outputs once ready: {plan.outputs.join(', ')} (credentials as secret references).
      </Typography>
    </Paper>
  );
}

/** The team's and cost-center's budgets (when set) with what their live claims already commit. */
function BudgetCheck({ owner, costCenter, monthly, planNumber }: { owner: string; costCenter: string; monthly: number; planNumber: number }) {
  const { budgets, spendByTeam, spendByCostCenter } = useBudgetCheck(planNumber);
  if (budgets.error !== null || spendByTeam.error !== null || spendByCostCenter.error !== null) {
    return <Alert severity="warning">Budget check unavailable: {(budgets.error ?? spendByTeam.error ?? spendByCostCenter.error)?.message}</Alert>;
  }
  if (budgets.data === undefined || spendByTeam.data === undefined || spendByCostCenter.data === undefined) return null;
  const lines = budgetLines({ owner, costCenter, monthly }, budgets.data, spendByTeam.data, spendByCostCenter.data);
  return (
    <Box role="group" aria-label="Budget check">
      <Typography variant="subtitle2" component="h3">
        Budget check
      </Typography>
      {lines.length === 0 ? (
        <Typography variant="body2">No budget is set for this team or cost center.</Typography>
      ) : (
        lines.map((l) => (
          <Typography key={l.label} variant="body2" color={l.within ? undefined : 'error'}>
            {l.label}: {formatMonthly(l.committed, l.currency)} committed + {formatMonthly(l.adds, l.currency)} ={' '}
            {formatMonthly(Math.round((l.committed + l.adds) * 100) / 100, l.currency)} of {formatMonthly(l.limit, l.currency)} — {l.within ? 'within budget' : 'over budget'}
          </Typography>
        ))
      )}
    </Box>
  );
}
