/**
 * Resource modules: versioned YAML documents (modules/*.yaml, or added by platform admins) that define
 * one menu entry — its provider, JSON Schema inputs with presets, outputs, tags, limits, backups and cost.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import semver from 'semver';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import { parseCron } from './cron.js';

export const MODULE_API_VERSION = 'plinth.dev/v1alpha1';
export const presets = ['small', 'medium', 'large'] as const;
export type PresetName = (typeof presets)[number];
export const providerNames = ['postgres', 'redis', 'rabbitmq', 'nats-stream', 'secret', 'tls-certificate', 'dns', 'route', 'volume'] as const;
export type ProviderName = (typeof providerNames)[number];
export const requiredTagNames = ['owner', 'cost-center', 'environment'] as const;

const moduleName = z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'a module name is lower-case letters, digits and "-", at most 41 characters');
const inputValues = z.record(z.string(), z.unknown());

const ModuleDocument = z.strictObject({
  apiVersion: z.literal(MODULE_API_VERSION),
  kind: z.literal('Module'),
  metadata: z.strictObject({
    name: moduleName,
    version: z.string().refine((v) => semver.valid(v) === v, 'a semantic version such as 1.2.0'),
    title: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
  }),
  spec: z.strictObject({
    provider: z.enum(providerNames),
    /** Score resource types this module satisfies (`type: postgres` in score.yaml). */
    scoreTypes: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).max(20).default([]),
    inputs: z.record(z.string(), z.unknown()),
    presets: z.strictObject({ small: inputValues, medium: inputValues, large: inputValues }),
    defaultPreset: z.enum(presets).default('small'),
    outputs: z.array(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/)).min(1).max(30),
    requiredTags: z.array(z.enum(requiredTagNames)).default([...requiredTagNames]),
    limits: z.strictObject({ maxClaimsPerTeam: z.number().int().min(1).max(10_000).default(50) }).default({ maxClaimsPerTeam: 50 }),
    backup: z
      .strictObject({ schedule: z.string().max(100).nullable().refine((s) => s === null || parseCron(s) !== undefined, 'a cron schedule of five fields such as "0 3 * * *"'), retentionDays: z.number().int().min(0).max(3650) })
      .default({ schedule: null, retentionDays: 7 }),
    /** `repair: true`: drift found on a claim is repaired by re-running its (idempotent) apply steps. */
    drift: z.strictObject({ repair: z.boolean().default(false) }).default({ repair: false }),
    cost: z.strictObject({
      currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
      /** Estimated cost per month of one claim, by preset. */
      monthly: z.strictObject({ small: z.number().min(0), medium: z.number().min(0), large: z.number().min(0) }),
      /** A price per unit of a numeric input (a volume's GiB), added to the preset's: `input` × `monthly`. */
      perUnit: z.strictObject({ input: z.string().min(1).max(100), unit: z.string().min(1).max(20), monthly: z.number().min(0) }).optional(),
    }),
    deprecation: z.strictObject({ successor: z.string().regex(/^[a-z][a-z0-9-]*@\d+\.\d+\.\d+$/, 'module@version'), message: z.string().max(500).optional() }).optional(),
  }),
});

/** A parsed, validated module. */
export interface Module {
  name: string;
  version: string;
  title: string;
  description: string;
  provider: ProviderName;
  scoreTypes: string[];
  inputs: Record<string, unknown>;
  presets: Record<PresetName, Record<string, unknown>>;
  defaultPreset: PresetName;
  outputs: string[];
  requiredTags: (typeof requiredTagNames)[number][];
  limits: { maxClaimsPerTeam: number };
  backup: { schedule: string | null; retentionDays: number };
  drift: { repair: boolean };
  cost: { currency: string; monthly: Record<PresetName, number>; perUnit?: { input: string; unit: string; monthly: number } };
  deprecation: { successor: string; message?: string } | undefined;
}

const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true });
const validators = new WeakMap<Module, ValidateFunction>();

function describeAjv(errors: readonly ErrorObject[] | null | undefined, prefix: string): string[] {
  return (errors ?? []).map((e) => {
    const path = `${prefix}${e.instancePath.replaceAll('/', '.')}`;
    if (e.keyword === 'additionalProperties') return `${path}: unknown input "${String(e.params.additionalProperty)}"`;
    return `${path}: ${e.message ?? 'is invalid'}${e.keyword === 'enum' ? ` (${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})` : ''}`;
  });
}

function validatorOf(module: Module): ValidateFunction {
  let validate = validators.get(module);
  if (!validate) {
    validate = ajv.compile(module.inputs);
    validators.set(module, validate);
  }
  return validate;
}

/** Parses one module document; one InputError lists every problem with its source and path. */
export function parseModule(text: string, source: string): Module {
  if (text.length > 256 * 1024) throw new InputError(`${source}: a module is at most 256 KiB`);
  const documents = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [documents];
  if (list.length !== 1) throw new InputError(`${source}: expected exactly one module document, found ${list.length}`);
  const document = list[0]!;
  if (document.errors[0]) throw new InputError(`${source}: invalid YAML: ${document.errors[0].message.split('\n')[0]}`);
  const parsed = ModuleDocument.safeParse(document.toJS({ maxAliasCount: 50 }));
  if (!parsed.success) {
    throw new InputError(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ')}`);
  }
  const { metadata, spec } = parsed.data;
  const module: Module = {
    name: metadata.name,
    version: metadata.version,
    title: metadata.title ?? metadata.name,
    description: metadata.description ?? '',
    provider: spec.provider,
    scoreTypes: spec.scoreTypes,
    inputs: spec.inputs,
    presets: spec.presets,
    defaultPreset: spec.defaultPreset,
    outputs: spec.outputs,
    requiredTags: spec.requiredTags,
    limits: spec.limits,
    backup: spec.backup,
    drift: spec.drift,
    cost: spec.cost,
    deprecation: spec.deprecation,
  };
  if (spec.inputs.type !== 'object') throw new InputError(`${source}: spec.inputs: the input schema must be of type object`);
  if (spec.cost.perUnit) {
    const property = (spec.inputs.properties as Record<string, { type?: unknown }> | undefined)?.[spec.cost.perUnit.input];
    if (property?.type !== 'integer' && property?.type !== 'number') throw new InputError(`${source}: spec.cost.perUnit.input: "${spec.cost.perUnit.input}" is not a numeric input of the module`);
  }
  try {
    validatorOf(module);
  } catch (err) {
    throw new InputError(`${source}: spec.inputs is not a valid JSON Schema: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  for (const preset of presets) {
    const validate = validatorOf(module);
    if (!validate(structuredClone(module.presets[preset]))) problems.push(...describeAjv(validate.errors, `spec.presets.${preset}`));
  }
  if (problems.length > 0) throw new InputError(`${source}: ${problems.join('; ')}`);
  return module;
}

/**
 * The inputs a claim runs with: schema defaults, then the preset, then the claim's own values;
 * validated against the module's schema (an unknown or out-of-range input is an InputError).
 */
export function resolveInputs(module: Module, preset: PresetName, given: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const merged = structuredClone({ ...module.presets[preset], ...given });
  const validate = validatorOf(module);
  if (!validate(merged)) throw new InputError(`inputs of ${module.name}@${module.version}: ${describeAjv(validate.errors, 'inputs').join('; ')}`);
  return merged;
}

/** The inputs a claim set itself: those that differ from what its module's preset (and the schema defaults) give. */
export function ownInputs(module: Module, preset: PresetName, inputs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const base = resolveInputs(module, preset, {});
  return Object.fromEntries(Object.entries(inputs).filter(([key, value]) => JSON.stringify(base[key]) !== JSON.stringify(value)));
}

/** A version or range (`1`, `1.2`, `^1.2.0`, `1.2.3`): the newest non-deprecated version that satisfies it (any version if all are deprecated). */
export function pickVersion(candidates: readonly Module[], wanted: string | undefined): Module | undefined {
  const matching = candidates.filter((m) => wanted === undefined || (semver.validRange(wanted) !== null && semver.satisfies(m.version, wanted)));
  const sorted = [...matching].sort((a, b) => semver.rcompare(a.version, b.version));
  return sorted.find((m) => m.deprecation === undefined) ?? sorted[0];
}

/** Monthly cost of one claim of the module at a preset, with its per-unit part for the claim's (resolved) inputs. */
export function monthlyCost(module: Module, preset: PresetName, inputs: Record<string, unknown> = {}): number {
  const perUnit = module.cost.perUnit;
  const units = perUnit ? Number(inputs[perUnit.input] ?? 0) : 0;
  return Math.round((module.cost.monthly[preset] + (perUnit && Number.isFinite(units) ? units * perUnit.monthly : 0)) * 100) / 100;
}

export const ModuleView = z.object({
  name: z.string(),
  version: z.string(),
  title: z.string(),
  description: z.string(),
  provider: z.enum(providerNames),
  scoreTypes: z.array(z.string()),
  inputs: z.record(z.string(), z.unknown()),
  presets: z.record(z.string(), z.record(z.string(), z.unknown())),
  defaultPreset: z.enum(presets),
  outputs: z.array(z.string()),
  requiredTags: z.array(z.string()),
  limits: z.object({ maxClaimsPerTeam: z.number() }),
  backup: z.object({ schedule: z.string().nullable(), retentionDays: z.number() }),
  drift: z.object({ repair: z.boolean() }),
  cost: z.object({ currency: z.string(), monthly: z.record(z.string(), z.number()), perUnit: z.object({ input: z.string(), unit: z.string(), monthly: z.number() }).optional() }),
  deprecation: z.object({ successor: z.string(), message: z.string().optional() }).nullable(),
  source: z.enum(['builtin', 'custom']),
});
export type ModuleView = z.infer<typeof ModuleView>;

export function moduleView(module: Module, source: 'builtin' | 'custom'): ModuleView {
  return { ...module, deprecation: module.deprecation ?? null, source };
}

export const PutModuleBody = z.strictObject({ yaml: z.string().min(1).max(256 * 1024) });
