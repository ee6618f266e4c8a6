import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { optionalStages, stageNames, stepConditions, type PipelineDefinition, type ShellStep, type StageName } from './definition.js';

// ---- plinth.yaml: a repository's escape hatch -------------------------------------------------------
// It may add shell steps to a stage, change a shell step's command, env, timeout, retries, needs and
// condition, set env for every step, and turn optional stages off. It may not remove the security stage
// or replace what a platform step does (DESIGN principle 4: golden paths within what policy allows).

export const PLINTH_YAML = 'plinth.yaml';
const maxBytes = 256 * 1024;

const envSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an env name is letters, digits and "_"'), z.string().max(16 * 1024));
const stepNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a step name is 1-63 of a-z, 0-9 and "-"');

const StepOverride = z.strictObject({
  command: z.string().min(1).max(16 * 1024).optional(),
  env: envSchema.optional(),
  timeout: z.number().int().min(1).max(6 * 3600).optional().describe('seconds'),
  retries: z.number().int().min(0).max(2).optional(),
  needs: z.array(stepNameSchema).max(50).optional(),
  condition: z.enum(stepConditions).optional(),
});

const StageOverride = z.strictObject({
  enabled: z.boolean().optional(),
  steps: z.record(stepNameSchema, StepOverride).optional(),
});

/** A runner label: a toolchain it has (`node`, `python3`…) or one given with `plinth runner --labels`. */
export const RUNNER_LABEL = /^[a-z0-9][a-z0-9.-]{0,31}$/;
/** Labels one runner may offer: every subset of them is a job kind it claims, so the set stays small. */
export const MAX_RUNNER_LABELS = 10;

/** What a runner must offer to take the repository's runs. */
const RunnerRequirement = z.strictObject({
  labels: z.array(z.string().regex(RUNNER_LABEL, 'a runner label is lowercase letters, digits, "." and "-"')).max(MAX_RUNNER_LABELS),
});

export const PlinthYaml = z.strictObject({
  version: z.literal(1).optional(),
  runner: RunnerRequirement.optional(),
  env: envSchema.optional(),
  stages: z.partialRecord(z.enum(stageNames.filter((s) => s !== 'setup') as [StageName, ...StageName[]]), StageOverride).optional(),
});
export type PlinthYaml = z.infer<typeof PlinthYaml>;

/** One problem with its place in the file (1-based line and column). */
export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

export const formatProblem = (p: ConfigProblem): string => `${p.file}:${p.line}:${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`;

type Checked = { ok: true; config: PlinthYaml } | { ok: false; problems: ConfigProblem[] };

/** Parses and validates plinth.yaml against the definition it modifies; every problem carries line and column. */
export function checkPlinthYaml(text: string, file: string, definition: PipelineDefinition): Checked {
  if (Buffer.byteLength(text) > maxBytes) return { ok: false, problems: [{ file, line: 1, column: 1, path: '', message: `is larger than ${maxBytes} bytes` }] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => ({ file, line: at(e.pos[0]).line, column: at(e.pos[0]).col, path: '', message: e.message.split('\n')[0]! })) };
  }
  /** Where a path is written: the key of its deepest existing entry (what an editor highlights). */
  const placeOf = (path: readonly PropertyKey[]): { line: number; column: number } => {
    for (let n = path.length; n > 0; n--) {
      const parent = (n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true)) as Node | null | undefined;
      const key = path[n - 1];
      const node = isMap(parent)
        ? (parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === key)?.key as Node | undefined)
        : isSeq(parent) ? (parent.items[Number(key)] as Node | undefined) : undefined;
      const offset = node?.range?.[0];
      if (offset !== undefined) return { line: at(offset).line, column: at(offset).col };
    }
    const offset = doc.contents?.range?.[0] ?? 0;
    return { line: at(offset).line, column: at(offset).col };
  };
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = PlinthYaml.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
        return { file, ...placeOf(path), path: path.join('.'), message: issue.message };
      }),
    };
  }
  const problems = policyProblems(parsed.data, definition).map((p) => ({ file, ...placeOf(p.path), path: p.path.join('.'), message: p.message }));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: parsed.data };
}

/** What the schema cannot see: rules that depend on the standard definition. */
function policyProblems(config: PlinthYaml, definition: PipelineDefinition): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const existing = new Map(definition.steps.map((s) => [s.name, s]));
  const added = new Set<string>();
  for (const [stage, override] of Object.entries(config.stages ?? {}) as [StageName, z.infer<typeof StageOverride>][]) {
    if (override.enabled === false && !optionalStages.includes(stage)) {
      problems.push({ path: ['stages', stage, 'enabled'], message: `the ${stage} stage cannot be turned off; only ${optionalStages.join(', ')} are optional` });
    }
    for (const [name, step] of Object.entries(override.steps ?? {})) {
      const known = existing.get(name);
      if (known && known.stage !== stage) problems.push({ path: ['stages', stage, 'steps', name], message: `step ${name} belongs to the ${known.stage} stage` });
      else if (known?.kind === 'platform') problems.push({ path: ['stages', stage, 'steps', name], message: `${name} is a platform step (${known.uses}); it cannot be changed in plinth.yaml` });
      else if (!known && step.command === undefined) problems.push({ path: ['stages', stage, 'steps', name], message: `a new step needs a command` });
      if (!known) added.add(name);
    }
  }
  const names = new Set([...existing.keys(), ...added]);
  for (const [stage, override] of Object.entries(config.stages ?? {})) {
    for (const [name, step] of Object.entries(override.steps ?? {})) {
      for (const [i, need] of (step.needs ?? []).entries()) {
        if (!names.has(need)) problems.push({ path: ['stages', stage, 'steps', name, 'needs', String(i)], message: `no step named ${need}` });
        if (need === name) problems.push({ path: ['stages', stage, 'steps', name, 'needs', String(i)], message: `a step cannot need itself` });
      }
    }
  }
  return problems;
}

/** The definition with a validated plinth.yaml applied (pure; the input is not changed). */
export function applyPlinthYaml(definition: PipelineDefinition, config: PlinthYaml): PipelineDefinition {
  const steps = definition.steps.map((s) => ({ ...s, env: { ...s.env }, needs: [...s.needs] }));
  const stages = definition.stages.map((s) => ({ ...s }));
  for (const [stageName, override] of Object.entries(config.stages ?? {}) as [StageName, z.infer<typeof StageOverride>][]) {
    const stage = stages.find((s) => s.name === stageName);
    if (stage && override.enabled !== undefined) stage.enabled = override.enabled;
    for (const [name, change] of Object.entries(override.steps ?? {})) {
      let step = steps.find((s) => s.name === name);
      if (!step) {
        const added: ShellStep = { kind: 'shell', name, stage: stageName, command: null, timeoutS: 600, retries: 0, condition: 'on-success', needs: [], env: {} };
        steps.push(added);
        step = added;
      }
      if (step.kind !== 'shell') continue;
      if (change.command !== undefined) {
        step.command = change.command;
        delete step.reason;
      }
      if (change.env) Object.assign(step.env, change.env);
      if (change.timeout !== undefined) step.timeoutS = change.timeout;
      if (change.retries !== undefined) step.retries = change.retries;
      if (change.needs !== undefined) step.needs = change.needs;
      if (change.condition !== undefined) step.condition = change.condition;
    }
  }
  return { ...definition, env: { ...definition.env, ...config.env }, stages, steps };
}

/**
 * The runner labels a commit's plinth.yaml asks for, read when the run is queued (before any checkout).
 * A file that does not parse asks for none: its run fails at the config step with the file's problems.
 */
export function runnerLabelsOf(text: string): string[] {
  if (Buffer.byteLength(text) > maxBytes) return [];
  try {
    const parsed = PlinthYaml.safeParse(parseDocument(text, { uniqueKeys: true }).toJS());
    return parsed.success ? [...new Set(parsed.data.runner?.labels ?? [])].sort() : [];
  } catch {
    return [];
  }
}
