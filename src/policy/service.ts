/**
 * The policy layer's service: the policy set (built-in files from `policies/`, editable by admins,
 * plus policies added through the API), exceptions, budgets, and decisions at the enforcement
 * points. Compiled policies are cached and reloaded when the set changes, in every replica.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  authorize,
  ConflictError,
  InputError,
  newId,
  NotFoundError,
  principalRef,
  toIso,
  type Kernel,
  type Permission,
  type Principal,
  type Subscription,
} from '../kernel/index.js';
import { compileGuardrail } from './guardrails/cel-policy.js';
import { decide, describeObject, type ActiveException, type LoadedPolicy } from './guardrails/decide.js';
import {
  defaultKyvernoPoints,
  enforcementPoints,
  GUARDRAIL_API_VERSION,
  GUARDRAIL_KIND,
  POINTS_ANNOTATION,
  type BudgetScope,
  type BudgetView,
  type CheckBody,
  type CreateExceptionBody,
  type Decision,
  type EnforcementPoint,
  type ExceptionView,
  type PolicyDetailView,
  type PolicyView,
  type ViolationView,
} from './guardrails/model.js';
import { PolicyLoadError } from './kyverno/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './kyverno/json.js';
import { compilePolicy } from './kyverno/load.js';
import type { Operation } from './kyverno/model.js';
import { parseYamlDocuments, YamlError } from './kyverno/yaml.js';
import * as q from './store.js';

const POLICY_CHANGED_CHANNEL = 'plinth_policy_changed';
const DECISION_EVENT = 'policy.decision.made';
const SCAN_JOB = 'policy.background-scan';
const SCAN_CHANGED_EVENT = 'policy.scan.changed';
const MAX_EXCEPTION_DAYS = 366;

export const policyPermissions = {
  read: { name: 'read policies', verb: 'read' },
  manage: { name: 'manage policies, exceptions and budgets', verb: 'admin' },
} satisfies Record<string, Permission>;

/** Money a team or cost-center has committed this month (the resources layer provides it). */
export type SpendSource = (scope: BudgetScope, name: string) => Promise<number>;

/** One thing running, for the background scan: a rendered manifest with its owner and ledger subjects. */
export interface RunningObject {
  /** A JSON manifest (Kubernetes-shaped). */
  object: object;
  owner?: string;
  subjects?: readonly string[];
}
/** Everything running now (the runtime provides it). */
export type ScanSource = () => Promise<RunningObject[]>;
/** A catalog entity by ref, as stored (the catalog provides it); undefined when it is gone. */
export type CatalogSource = (ref: string) => Promise<JsonObject | undefined>;

export interface ScanSummary {
  objects: number;
  /** Objects with at least one failing rule. */
  violating: number;
  /** Objects whose set of failing rules changed since the previous scan (each one a ledger event). */
  changed: number;
}

export interface DecisionRequest {
  point: EnforcementPoint;
  object: JsonObject;
  operation?: Operation;
  /** Team that owns the object (`group:default/payments` or `payments`); read from `metadata.labels.owner` when absent. */
  owner?: string;
  /** Ledger subjects besides the point, e.g. `service:default/payments`, `environment:production`. */
  subjects?: readonly string[];
  /** Spend already committed this month, when the caller knows it better than the spend source. */
  spend?: { team?: number; costCenter?: number };
  dryRun?: boolean;
}

export interface Policy {
  start(): Promise<void>;
  stop(): void;
  /** Judges one object at an enforcement point: a ledger event and a report row per decision (unless dry-run). */
  decide(principal: Principal, request: DecisionRequest): Promise<Decision>;
  /** The playground and `plinth policy check`: every document of the body judged, nothing recorded. */
  check(principal: Principal, body: CheckBody): Promise<Decision[]>;
  listPolicies(principal: Principal): Promise<PolicyView[]>;
  getPolicy(principal: Principal, name: string): Promise<PolicyDetailView>;
  putPolicy(principal: Principal, name: string, input: { yaml: string; enabled?: boolean }): Promise<{ policy: PolicyDetailView; created: boolean }>;
  /** Custom policies are deleted; a built-in one is disabled (and comes back enabled only by an admin). */
  deletePolicy(principal: Principal, name: string): Promise<void>;
  listExceptions(principal: Principal, options: { policy?: string; includeExpired: boolean }): Promise<ExceptionView[]>;
  createException(principal: Principal, input: CreateExceptionBody): Promise<ExceptionView>;
  deleteException(principal: Principal, id: string): Promise<void>;
  listBudgets(principal: Principal): Promise<BudgetView[]>;
  putBudget(principal: Principal, scope: BudgetScope, name: string, input: { monthlyLimit: number; currency: string }): Promise<BudgetView>;
  deleteBudget(principal: Principal, scope: BudgetScope, name: string): Promise<void>;
  violations(principal: Principal, filter: { owner?: string; policy?: string; subject?: string; limit: number }): Promise<ViolationView[]>;
  /** The resources layer tells the policy layer how much is already spent. */
  setSpendSource(source: SpendSource): void;
  /** The runtime tells the policy layer what runs, for the background scan. */
  setScanSource(source: ScanSource): void;
  /** The catalog lets the policy layer read the entities an ingestion changed (the audit-only `catalog` point). */
  setCatalogSource(source: CatalogSource): void;
  /** Judges everything running at the `scan` point now (the job does it every `scanIntervalS`). */
  scan(principal: Principal): Promise<ScanSummary>;
}

export interface PolicyOptions {
  /** Built-in policies, one or more YAML files; absent folder means none. */
  builtinDir?: string;
  /** Seconds between background scans of what runs (default 300). */
  scanIntervalS?: number;
}

interface Compiled {
  kind: PolicyView['kind'];
  loaded: LoadedPolicy;
  failureAction: PolicyView['failureAction'];
  rules: string[];
  description: string | null;
}

const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');

function pointsFromAnnotation(document: JsonObject, source: string): EnforcementPoint[] {
  const metadata = isJsonObject(document.metadata) ? document.metadata : {};
  const annotations = isJsonObject(metadata.annotations) ? metadata.annotations : {};
  const value = annotations[POINTS_ANNOTATION];
  if (typeof value !== 'string') return [...defaultKyvernoPoints];
  const points = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const unknown = points.filter((p) => !(enforcementPoints as readonly string[]).includes(p));
  if (unknown.length > 0 || points.length === 0) {
    throw new PolicyLoadError(source, [{ path: `metadata.annotations["${POINTS_ANNOTATION}"]`, reason: `expected a comma-separated list of ${enforcementPoints.join(', ')}; got ${JSON.stringify(value)}` }]);
  }
  return points as EnforcementPoint[];
}

function descriptionOf(document: JsonObject): string | null {
  const metadata = isJsonObject(document.metadata) ? document.metadata : {};
  const annotations = isJsonObject(metadata.annotations) ? metadata.annotations : {};
  const text = annotations['policies.kyverno.io/description'] ?? annotations['policy.plinth.dev/description'];
  return typeof text === 'string' ? text.trim().replace(/\s+/g, ' ') : null;
}

/** One stored policy: exactly one Kyverno ClusterPolicy/Policy or GuardrailPolicy document. */
export function compileStoredPolicy(yaml: string, source: string): Compiled & { name: string } {
  let documents;
  try {
    documents = parseYamlDocuments(yaml, source).filter((d) => d.value !== null);
  } catch (err) {
    if (err instanceof YamlError) throw new PolicyLoadError(source, [{ path: '', reason: err.message.replace(`${source}: `, '') }]);
    throw err;
  }
  if (documents.length !== 1) throw new PolicyLoadError(source, [{ path: '', reason: `expected exactly one policy document, found ${documents.length}` }]);
  const document = documents[0]!.value as JsonValue;
  if (!isJsonObject(document)) throw new PolicyLoadError(source, [{ path: '', reason: 'a policy is a YAML mapping' }]);
  if (document.kind === GUARDRAIL_KIND || document.apiVersion === GUARDRAIL_API_VERSION) {
    const compiled = compileGuardrail(document, source);
    return {
      name: compiled.name,
      kind: GUARDRAIL_KIND,
      loaded: { kind: 'guardrail', name: compiled.name, points: compiled.points, compiled },
      failureAction: compiled.failureAction,
      rules: ['validations'],
      description: descriptionOf(document),
    };
  }
  if ((document.kind === 'ClusterPolicy' || document.kind === 'Policy') && typeof document.apiVersion === 'string' && document.apiVersion.startsWith('kyverno.io/')) {
    const points = pointsFromAnnotation(document, source);
    const compiled = compilePolicy(document, source);
    const actions = new Set(compiled.rules.map((r) => r.failureAction));
    return {
      name: compiled.key,
      kind: compiled.kind,
      loaded: { kind: 'kyverno', name: compiled.key, points: new Set(points), compiled },
      failureAction: actions.size === 1 ? [...actions][0]! : 'mixed',
      rules: compiled.rules.map((r) => r.name),
      description: descriptionOf(document),
    };
  }
  throw new PolicyLoadError(source, [{ path: 'kind', reason: `expected a Kyverno ClusterPolicy or Policy (kyverno.io/*) or a ${GUARDRAIL_KIND} (${GUARDRAIL_API_VERSION}); got ${JSON.stringify(document.kind ?? null)}` }]);
}

/** `group:default/payments` → `payments`: budgets are kept by team name. */
function teamName(owner: string | undefined): string | undefined {
  if (owner === undefined || owner.trim() === '') return undefined;
  const match = /^(?:group:)?(?:[^/:]+\/)?([^/:]+)$/i.exec(owner.trim());
  return match ? match[1]!.toLowerCase() : undefined;
}

function label(object: JsonObject, key: string): string | undefined {
  const metadata = isJsonObject(object.metadata) ? object.metadata : {};
  const labels = isJsonObject(metadata.labels) ? metadata.labels : {};
  const value = labels[key];
  return typeof value === 'string' ? value : undefined;
}

export function createPolicy(kernel: Kernel, options: PolicyOptions = {}): Policy {
  const { store, clock, ledger, logger, jobs } = kernel;
  const log = logger.child({ layer: 'policy' });
  const scanIntervalMs = (options.scanIntervalS ?? 300) * 1000;
  let spendSource: SpendSource | undefined;
  let scanSource: ScanSource | undefined;
  let catalogSource: CatalogSource | undefined;
  let catalogSubscription: Subscription | undefined;
  let catalogChain: Promise<void> = Promise.resolve();
  let loaded: { policies: LoadedPolicy[]; byName: Map<string, Compiled> } | undefined;
  let loading: Promise<NonNullable<typeof loaded>> | undefined;
  let unlisten: (() => void) | undefined;
  let scanRegistered = false;

  async function load(): Promise<NonNullable<typeof loaded>> {
    const rows = await q.listPolicies(store);
    const byName = new Map<string, Compiled>();
    const policies: LoadedPolicy[] = [];
    for (const row of rows) {
      try {
        const compiled = compileStoredPolicy(row.yaml, `policy ${row.name}`);
        byName.set(row.name, compiled);
        if (row.enabled) policies.push(compiled.loaded);
      } catch (err) {
        // Stored policies were valid when written; one that no longer compiles (an engine change) is
        // reported and left out rather than taking every decision down.
        log.error({ err, policy: row.name }, 'stored policy does not compile; it is not applied');
      }
    }
    return { policies, byName };
  }

  async function current(): Promise<NonNullable<typeof loaded>> {
    if (loaded) return loaded;
    loading ??= load().then((value) => {
      loaded = value;
      loading = undefined;
      return value;
    }, (err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  }

  function invalidate(): void {
    loaded = undefined;
  }

  async function changed(): Promise<void> {
    invalidate();
    await store.notify(POLICY_CHANGED_CHANNEL);
  }

  async function seedBuiltins(): Promise<void> {
    if (options.builtinDir === undefined) return;
    let files: string[];
    try {
      files = (await readdir(options.builtinDir)).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const now = toIso(clock.now());
    const shipped = new Set<string>();
    for (const file of files) {
      const yaml = await readFile(join(options.builtinDir, file), 'utf8');
      // A broken shipped policy is a bug in Plinth: fail the start loudly.
      const compiled = compileStoredPolicy(yaml, join('policies', file));
      shipped.add(compiled.name);
      const digest = digestOf(yaml);
      const existing = await q.getPolicy(store, compiled.name);
      if (!existing) {
        await store.transaction(async (tx) => {
          if (await q.getPolicy(tx, compiled.name)) return;
          await q.insertPolicy(tx, { name: compiled.name, kind: compiled.kind, source: 'builtin', yaml, enabled: 1, shipped_digest: digest, updated_by: 'system:plinth', updated_at: now });
        });
      } else if (existing.source === 'builtin' && existing.shipped_digest !== null && existing.shipped_digest !== digest) {
        // An unedited built-in follows the shipped version; an edited one stays as the admin left it.
        await q.updatePolicy(store, compiled.name, { yaml, kind: compiled.kind, shipped_digest: digest, updated_by: 'system:plinth', updated_at: now });
      }
    }
    for (const row of await q.listPolicies(store)) {
      if (row.source === 'builtin' && row.shipped_digest !== null && !shipped.has(row.name)) await q.deletePolicy(store, row.name);
    }
  }

  async function view(row: q.PolicyRow, compiled: Compiled | undefined, counts: Map<string, number>): Promise<PolicyDetailView> {
    const c = compiled ?? compileStoredPolicy(row.yaml, `policy ${row.name}`);
    return {
      name: row.name,
      kind: c.kind,
      source: row.source as PolicyView['source'],
      modified: row.source === 'builtin' && row.shipped_digest === null,
      enabled: row.enabled === 1,
      failureAction: c.failureAction,
      points: [...c.loaded.points],
      rules: c.rules,
      description: c.description,
      violations: counts.get(row.name) ?? 0,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
      yaml: row.yaml,
    };
  }

  async function budgetContext(object: JsonObject, owner: string | undefined, spend: DecisionRequest['spend']): Promise<JsonObject> {
    const budget: JsonObject = {};
    const entries: [key: 'team' | 'costCenter', scope: BudgetScope, name: string | undefined, given: number | undefined][] = [
      ['team', 'team', teamName(owner ?? label(object, 'owner')), spend?.team],
      ['costCenter', 'cost-center', label(object, 'cost-center')?.toLowerCase(), spend?.costCenter],
    ];
    for (const [key, scope, name, given] of entries) {
      if (name === undefined) continue;
      const found = await q.getBudget(store, scope, name);
      if (!found) continue;
      const spent = given ?? (spendSource ? await spendSource(scope, name) : 0);
      budget[key] = { name, limit: found.monthlyLimit, currency: found.currency, spent };
    }
    return { budget };
  }

  async function activeExceptions(): Promise<ActiveException[]> {
    return q.listExceptions(store, toIso(clock.now()), { includeExpired: false });
  }

  /** `exceptions`: those in force, when the caller judges many objects at once and read them once. */
  async function judge(principal: Principal, request: DecisionRequest, exceptions?: readonly ActiveException[]): Promise<Decision> {
    const { policies } = await current();
    const context = request.point === 'provisioning' ? await budgetContext(request.object, request.owner, request.spend) : {};
    return decide(policies, exceptions ?? (await activeExceptions()), {
      point: request.point,
      object: request.object,
      operation: request.operation ?? 'CREATE',
      user: principal.kind === 'user' ? { username: principal.username, role: principal.role } : undefined,
      context,
      now: clock.now(),
      dryRun: request.dryRun ?? false,
    });
  }

  /**
   * Reports every running object's verdicts (PolicyReport rows, as Kyverno's background controller
   * does) and appends a ledger event only when an object's failing rules changed: a scan every few
   * minutes must not bury the ledger under unchanged verdicts.
   */
  async function backgroundScan(principal: Principal): Promise<ScanSummary> {
    const running = scanSource ? await scanSource() : [];
    const summary: ScanSummary = { objects: running.length, violating: 0, changed: 0 };
    const seen: string[] = [];
    const exceptions = await activeExceptions();
    for (const item of running) {
      const object = item.object as JsonObject;
      const decision = await judge(principal, { point: 'scan', object, owner: item.owner }, exceptions);
      seen.push(decision.object);
      const failing = (results: readonly { policy: string; rule: string; status: string }[]) =>
        results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => `${r.policy}/${r.rule}`).sort();
      const now = failing(decision.results);
      if (now.length > 0) summary.violating++;
      const owner = teamName(item.owner ?? label(object, 'owner'));
      const ownerRef = owner === undefined ? null : `group:default/${owner}`;
      await store.transaction(async (tx) => {
        const before = failing(await q.listReport(tx, decision.object, 'scan'));
        await q.writeReport(tx, { subject: decision.object, point: 'scan', owner: ownerRef, results: decision.results, at: toIso(clock.now()) });
        if (before.join('\n') === now.join('\n')) return;
        summary.changed++;
        await ledger.append(
          {
            kind: SCAN_CHANGED_EVENT,
            subjects: ['point:scan', ...(ownerRef ? [ownerRef] : []), ...(item.subjects ?? [])],
            actor: principalRef(principal),
            payload: { object: decision.object, failing: now, resolved: before.filter((r) => !now.includes(r)), added: now.filter((r) => !before.includes(r)) },
          },
          { db: tx },
        );
      });
    }
    // What no longer runs has no current verdict.
    await q.deleteReportsExcept(store, 'scan', seen);
    return summary;
  }

  /** Judges changed catalog entities at the `catalog` point, when a policy watches it (the common case is none). */
  async function auditCatalog(refs: readonly string[]): Promise<void> {
    const { policies } = await current();
    if (!policies.some((p) => p.points.has('catalog')) || !catalogSource) return;
    const system: Principal = { kind: 'system', name: 'policy' };
    for (const ref of refs) {
      const entity = await catalogSource(ref);
      if (!entity) continue;
      const owner = (entity.spec as { owner?: unknown } | undefined)?.owner;
      await policy.decide(system, { point: 'catalog', object: entity, operation: 'UPDATE', subjects: [ref], ...(typeof owner === 'string' ? { owner } : {}) });
    }
  }

  const policy: Policy = {
    async start() {
      unlisten = store.listen(POLICY_CHANGED_CHANNEL, invalidate);
      await seedBuiltins();
      invalidate();
      await current();
      if (!scanRegistered) {
        scanRegistered = true;
        jobs.register(SCAN_JOB, async () => {
          const summary = await backgroundScan({ kind: 'system', name: 'policy' });
          if (summary.changed > 0) log.info(summary, 'background policy scan');
          return { kind: 'wait', until: new Date(clock.now().getTime() + scanIntervalMs) };
        });
      }
      await jobs.enqueue({ kind: SCAN_JOB, idempotencyKey: SCAN_JOB, runAt: new Date(clock.now().getTime() + scanIntervalMs), maxAttempts: 1_000_000 });
      // Catalog ingestion is audited: each entity a refresh added or changed is judged at the `catalog`
      // point (reported, never blocking), one refresh at a time, after the refresh committed.
      catalogSubscription = ledger.subscribe({ kinds: ['catalog.location.refreshed'] }, (event) => {
        const refs = (event.payload as { changedRefs?: unknown }).changedRefs;
        if (!catalogSource || !Array.isArray(refs) || refs.length === 0) return;
        catalogChain = catalogChain.then(() => auditCatalog(refs.filter((r): r is string => typeof r === 'string'))).catch((err: unknown) => log.error({ err }, 'catalog audit failed'));
      });
      await catalogSubscription.ready;
    },

    stop() {
      unlisten?.();
      unlisten = undefined;
      catalogSubscription?.close();
    },

    async decide(principal, request) {
      const decision = await judge(principal, request);
      if (decision.dryRun) return decision;
      const owner = teamName(request.owner ?? label(request.object, 'owner'));
      const ownerRef = owner === undefined ? null : `group:default/${owner}`;
      const at = toIso(clock.now());
      await store.transaction(async (tx) => {
        await q.writeReport(tx, { subject: decision.object, point: decision.point, owner: ownerRef, results: decision.results, at });
        await ledger.append(
          {
            kind: DECISION_EVENT,
            subjects: [`point:${request.point}`, ...(ownerRef ? [ownerRef] : []), ...(request.subjects ?? [])],
            actor: principalRef(principal),
            payload: {
              point: decision.point,
              object: decision.object,
              allowed: decision.allowed,
              denials: decision.denials.map((d) => ({ policy: d.policy, rule: d.rule, message: d.message })),
              counts: countByStatus(decision),
            },
          },
          { db: tx },
        );
      });
      return decision;
    },

    async check(principal, body) {
      authorize(principal, policyPermissions.read);
      const objects: JsonObject[] = [];
      if (body.object !== undefined) objects.push(body.object as JsonObject);
      if (body.yaml !== undefined) {
        let documents;
        try {
          documents = parseYamlDocuments(body.yaml, 'the request');
        } catch (err) {
          if (err instanceof YamlError) throw new InputError(err.message);
          throw err;
        }
        documents.forEach((d, i) => {
          if (d.value === null) return;
          if (!isJsonObject(d.value)) throw new InputError(`document ${i + 1} of the YAML is not a mapping`);
          objects.push(d.value);
        });
      }
      if (objects.length === 0) throw new InputError('give the object to check as `object` (JSON) or `yaml` (one or more documents)');
      if (objects.length > 100) throw new InputError(`at most 100 objects per check; got ${objects.length}`);
      const unnamed = objects.find((object) => typeof object.kind !== 'string');
      if (unnamed) throw new InputError(`${describeObject(unnamed)}: every object needs a kind`);
      const exceptions = await activeExceptions();
      const decisions: Decision[] = [];
      for (const object of objects) {
        const spend = { team: body.context?.teamSpend, costCenter: body.context?.costCenterSpend };
        decisions.push(await judge(principal, { point: body.point, object, operation: body.operation, spend, dryRun: true }, exceptions));
      }
      return decisions;
    },

    async listPolicies(principal) {
      authorize(principal, policyPermissions.read);
      const [rows, counts, { byName }] = await Promise.all([q.listPolicies(store), q.violationCounts(store), current()]);
      const views: PolicyView[] = [];
      for (const row of rows) {
        const { yaml: _yaml, ...rest } = await view(row, byName.get(row.name), counts);
        views.push(rest);
      }
      return views;
    },

    async getPolicy(principal, name) {
      authorize(principal, policyPermissions.read);
      const row = await q.getPolicy(store, name);
      if (!row) throw new NotFoundError(`no policy named ${name}`);
      return view(row, (await current()).byName.get(name), await q.violationCounts(store));
    },

    async putPolicy(principal, name, input) {
      authorize(principal, policyPermissions.manage);
      const compiled = compileStoredPolicy(input.yaml, `policy ${name}`);
      if (compiled.name !== name) throw new InputError(`the policy in the body is named ${compiled.name}, but the URL names ${name}: they must agree`);
      const now = toIso(clock.now());
      const actor = principalRef(principal);
      const created = await store.transaction(async (tx) => {
        const existing = await q.getPolicy(tx, name);
        if (!existing) {
          await q.insertPolicy(tx, { name, kind: compiled.kind, source: 'custom', yaml: input.yaml, enabled: input.enabled === false ? 0 : 1, shipped_digest: null, updated_by: actor, updated_at: now });
          return true;
        }
        const enabled = input.enabled === undefined ? existing.enabled : input.enabled ? 1 : 0;
        const unchanged = existing.yaml === input.yaml;
        await q.updatePolicy(tx, name, {
          kind: compiled.kind,
          yaml: input.yaml,
          enabled,
          // Editing a built-in detaches it from the shipped file; re-enabling it alone does not.
          shipped_digest: unchanged ? existing.shipped_digest : null,
          updated_by: actor,
          updated_at: now,
        });
        return false;
      });
      await changed();
      const row = await q.getPolicy(store, name);
      return { policy: await view(row!, compiled, await q.violationCounts(store)), created };
    },

    async deletePolicy(principal, name) {
      authorize(principal, policyPermissions.manage);
      const row = await q.getPolicy(store, name);
      if (!row) throw new NotFoundError(`no policy named ${name}`);
      if (row.source === 'builtin') await q.updatePolicy(store, name, { enabled: 0, updated_by: principalRef(principal), updated_at: toIso(clock.now()) });
      else await q.deletePolicy(store, name);
      await changed();
    },

    async listExceptions(principal, options) {
      authorize(principal, policyPermissions.read);
      return q.listExceptions(store, toIso(clock.now()), options);
    },

    async createException(principal, input) {
      authorize(principal, policyPermissions.manage);
      const now = clock.now();
      const expires = new Date(input.expiresAt);
      if (expires.getTime() <= now.getTime()) throw new InputError(`expiresAt ${input.expiresAt} is in the past`);
      if (expires.getTime() - now.getTime() > MAX_EXCEPTION_DAYS * 86_400_000) throw new InputError(`an exception lasts at most ${MAX_EXCEPTION_DAYS} days; renew it when it ends`);
      const { byName } = await current();
      const policy = byName.get(input.policy);
      if (!policy) throw new NotFoundError(`no policy named ${input.policy}`);
      const unknownRules = (input.rules ?? []).filter((r) => !policy.rules.includes(r));
      if (unknownRules.length > 0) throw new InputError(`policy ${input.policy} has no rule ${unknownRules.join(', ')}; its rules: ${policy.rules.join(', ')}`);
      const exception = {
        id: `pex-${newId().slice(0, 12)}`,
        policy: input.policy,
        rules: input.rules ?? [],
        match: input.match,
        reason: input.reason,
        approvedBy: principalRef(principal),
        createdAt: toIso(now),
        expiresAt: toIso(expires),
      };
      await store.transaction(async (tx) => {
        await q.insertException(tx, exception);
        await ledger.append({ kind: 'policy.exception.created', subjects: [`policy:${input.policy}`], actor: exception.approvedBy, payload: { ...exception } }, { db: tx });
      });
      return { ...exception, expired: false };
    },

    async deleteException(principal, id) {
      authorize(principal, policyPermissions.manage);
      const removed = await store.transaction(async (tx) => {
        if (!(await q.deleteException(tx, id))) return false;
        await ledger.append({ kind: 'policy.exception.deleted', subjects: [], actor: principalRef(principal), payload: { id } }, { db: tx });
        return true;
      });
      if (!removed) throw new NotFoundError(`no policy exception ${id}`);
    },

    async listBudgets(principal) {
      authorize(principal, policyPermissions.read);
      return q.listBudgets(store);
    },

    async putBudget(principal, scope, name, input) {
      authorize(principal, policyPermissions.manage);
      const key = scope === 'team' ? teamName(name) : name.trim().toLowerCase();
      if (key === undefined || key === '') throw new InputError(`${JSON.stringify(name)} is not a ${scope} name`);
      const budget: BudgetView = { scope, name: key, monthlyLimit: input.monthlyLimit, currency: input.currency, updatedAt: toIso(clock.now()), updatedBy: principalRef(principal) };
      await q.putBudget(store, budget);
      return budget;
    },

    async deleteBudget(principal, scope, name) {
      authorize(principal, policyPermissions.manage);
      const key = scope === 'team' ? teamName(name) : name.trim().toLowerCase();
      if (key === undefined || !(await q.deleteBudget(store, scope, key))) throw new NotFoundError(`no budget for ${scope} ${name}`);
    },

    async violations(principal, filter) {
      authorize(principal, policyPermissions.read);
      const owner = filter.owner === undefined ? undefined : `group:default/${teamName(filter.owner) ?? filter.owner}`;
      return q.listViolations(store, { ...filter, owner });
    },

    setSpendSource(source) {
      if (spendSource) throw new ConflictError('a spend source is already set');
      spendSource = source;
    },

    setCatalogSource(source) {
      if (catalogSource) throw new ConflictError('a catalog source is already set');
      catalogSource = source;
    },
    setScanSource(source) {
      if (scanSource) throw new ConflictError('a scan source is already set');
      scanSource = source;
    },

    async scan(principal) {
      authorize(principal, policyPermissions.manage);
      return backgroundScan(principal);
    },
  };
  return policy;
}

function countByStatus(decision: Decision): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of decision.results) counts[result.status] = (counts[result.status] ?? 0) + 1;
  return counts;
}

/**
 * The deploy enforcement point as the runtime asks for it: every rendered manifest of a release is
 * judged (and recorded) before anything starts; the denials say which rule refused which manifest.
 */
export function deployAdmission(policy: Policy) {
  return async (principal: Principal, manifests: readonly object[], spec: { service: string; environment: string; labels?: Readonly<Record<string, string>> }): Promise<{ allowed: boolean; denials: string[] }> => {
    const denials: string[] = [];
    for (const manifest of manifests) {
      const decision = await policy.decide(principal, {
        point: 'deploy',
        object: manifest as JsonObject,
        owner: spec.labels?.owner,
        subjects: [`service:default/${spec.service}`, `environment:${spec.environment}`],
      });
      for (const denial of decision.denials) denials.push(`${denial.policy}/${denial.rule} on ${decision.object}: ${denial.message}`);
    }
    return { allowed: denials.length === 0, denials };
  };
}

/**
 * The provisioning enforcement point as the resources layer asks for it: the claim object is judged
 * (budgets see the committed spend) and recorded unless it is a dry-run plan.
 */
export function provisioningAdmission(policy: Policy) {
  return async (principal: Principal, request: { object: object; owner: string; subjects: readonly string[]; dryRun: boolean }): Promise<{ allowed: boolean; denials: { policy: string; rule: string; message: string }[] }> => {
    const decision = await policy.decide(principal, { point: 'provisioning', object: request.object as JsonObject, owner: request.owner, subjects: request.subjects, dryRun: request.dryRun });
    return { allowed: decision.allowed, denials: decision.denials.map((d) => ({ policy: d.policy, rule: d.rule, message: d.message })) };
  };
}
