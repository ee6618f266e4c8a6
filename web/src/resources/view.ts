import type { MeView } from '../../../src/kernel/index.js';
import type { ClaimView, CostLine, ModuleView } from '../../../src/resources/index.js';

// Pure rules of the resource pages (no React, no fetch), also run by test/journeys/resources-portal.test.ts.

/** A monthly budget as `GET /api/policy/budgets` returns it (the policy layer does not export its view type). */
export interface BudgetView {
  scope: 'team' | 'cost-center';
  name: string;
  monthlyLimit: number;
  currency: string;
}

export const presetNames = ['small', 'medium', 'large'] as const;
export type PresetName = (typeof presetNames)[number];

export const phaseTone: Record<ClaimView['phase'], 'default' | 'success' | 'error' | 'warning' | 'info'> = {
  provisioning: 'info',
  ready: 'success',
  failed: 'error',
  deleting: 'warning',
};

/** 15 EUR → "€15.00/month" in the reader's locale. */
export function formatMonthly(amount: number, currency: string): string {
  try {
    return `${new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount)}/month`;
  } catch {
    return `${amount} ${currency}/month`;
  }
}

/** `group:default/team-a` → `team-a`. */
export function teamName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** The groups the user may claim for: the group refs among their ownership refs. */
export function ownerGroups(me: MeView): string[] {
  return me.ownershipRefs.filter((ref) => ref.startsWith('group:'));
}

/** Whether the user may act on the claim (delete, back up, restore, rotate): its owner team, or a platform admin. */
export function canManage(me: MeView, claim: Pick<ClaimView, 'owner'>): boolean {
  return me.user.role === 'platform-admin' || (me.user.role !== 'viewer' && me.ownershipRefs.includes(claim.owner));
}

/**
 * The menu: one entry per module name, its newest version first (the one a claim without a version
 * gets: the newest non-deprecated), then the older versions.
 */
export function menuEntries(modules: readonly ModuleView[]): { current: ModuleView; versions: ModuleView[] }[] {
  const byName = new Map<string, ModuleView[]>();
  for (const module of modules) byName.set(module.name, [...(byName.get(module.name) ?? []), module]);
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, versions]) => {
      const sorted = [...versions].sort((a, b) => compareVersions(b.version, a.version));
      return { current: sorted.find((m) => m.deprecation === null) ?? sorted[0]!, versions: sorted };
    });
}

/** The version a claim can be upgraded to: the newest non-deprecated version of its module newer than its own; undefined when none. */
export function upgradeTarget(claim: Pick<ClaimView, 'module' | 'version'>, modules: readonly ModuleView[]): ModuleView | undefined {
  return modules
    .filter((m) => m.name === claim.module && m.deprecation === null && compareVersions(m.version, claim.version) > 0)
    .sort((a, b) => compareVersions(b.version, a.version))[0];
}

/** Semantic versions compared by their numeric parts (module versions are plain x.y.z). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((p) => Number.parseInt(p, 10));
  const pb = b.split(/[.+-]/).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `{ connectionLimit: 10, extensions: [] }` → "connectionLimit 10"; empty values left out. */
export function describeInputs(values: Record<string, unknown>): string {
  const parts = Object.entries(values)
    .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return parts.length > 0 ? parts.join(' · ') : 'no inputs';
}

/** The schema's default of each input: what the form starts from before a preset is applied. */
export function schemaDefaults(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null) return {};
  const defaults: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(properties)) {
    if (typeof property === 'object' && property !== null && 'default' in property) defaults[key] = structuredClone(property.default);
  }
  return defaults;
}

/** The values the form shows for a preset: schema defaults, then the preset's values. */
export function presetValues(module: ModuleView, preset: PresetName): Record<string, unknown> {
  return { ...schemaDefaults(module.inputs), ...structuredClone(module.presets[preset] ?? {}) };
}

/** A preset's monthly price as the plan will compute it: the preset's, plus its units at the per-unit price (a volume's GiB). */
export function presetMonthly(module: ModuleView, preset: PresetName): number {
  const perUnit = module.cost.perUnit;
  const units = perUnit ? Number(presetValues(module, preset)[perUnit.input] ?? 0) : 0;
  return Math.round(((module.cost.monthly[preset] ?? 0) + (perUnit && Number.isFinite(units) ? units * perUnit.monthly : 0)) * 100) / 100;
}

/** Only what the user changed from the preset goes into the claim as `inputs`; the preset supplies the rest. */
export function changedInputs(module: ModuleView, preset: PresetName, values: Record<string, unknown>): Record<string, unknown> {
  const start = presetValues(module, preset);
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (JSON.stringify(value) !== JSON.stringify(start[key])) changed[key] = value;
  }
  return changed;
}

/** A title for an input without one: `connectionLimit` → "Connection limit". */
export function inputTitle(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[-_]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Outputs whose name ends in `Ref` hold a secret reference (the value stays in the secret store). */
export function isSecretRef(output: string): boolean {
  return /Ref$/.test(output);
}

/**
 * What the API allows per provider (it refuses the rest with 400 and a reason): backups and restores
 * for providers with data (PostgreSQL, RabbitMQ definitions), rotation for those with server-side
 * credentials or certificates. The module view does not carry these capabilities, so they are listed here.
 */
const withBackups = new Set(['postgres', 'rabbitmq']);
const withoutRotation = new Set(['nats-stream', 'secret', 'dns']);
export const hasBackups = (provider: string) => withBackups.has(provider);
export const hasRotation = (provider: string) => !withoutRotation.has(provider);

export interface BudgetLine {
  label: string;
  limit: number;
  currency: string;
  committed: number;
  adds: number;
  within: boolean;
}

/** The budgets a claim counts against (its team's and its cost-center's), with what is committed and what it adds. */
export function budgetLines(input: { owner: string; costCenter: string; monthly: number }, budgets: readonly BudgetView[], byTeam: readonly CostLine[], byCostCenter: readonly CostLine[]): BudgetLine[] {
  const lines: BudgetLine[] = [];
  const team = teamName(input.owner).toLowerCase();
  const teamBudget = budgets.find((b) => b.scope === 'team' && b.name === team);
  if (teamBudget) {
    const committed = byTeam.filter((l) => teamName(l.key).toLowerCase() === team).reduce((sum, l) => sum + l.monthly, 0);
    lines.push({ label: `team ${team}`, limit: teamBudget.monthlyLimit, currency: teamBudget.currency, committed, adds: input.monthly, within: committed + input.monthly <= teamBudget.monthlyLimit });
  }
  const costCenter = input.costCenter.toLowerCase();
  const centerBudget = budgets.find((b) => b.scope === 'cost-center' && b.name === costCenter);
  if (centerBudget) {
    const committed = byCostCenter.filter((l) => l.key === costCenter).reduce((sum, l) => sum + l.monthly, 0);
    lines.push({ label: `cost-center ${costCenter}`, limit: centerBudget.monthlyLimit, currency: centerBudget.currency, committed, adds: input.monthly, within: committed + input.monthly <= centerBudget.monthlyLimit });
  }
  return lines;
}
