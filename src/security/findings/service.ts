import { authorize, ConflictError, InputError, newId, NotAllowedError, NotFoundError, principalRef, toIso, type Kernel, type Principal, type Tx } from '../../kernel/index.js';
import type { PlatformStepContext, PlatformStepHandler, PlatformStepResult } from '../../pipelines/index.js';
import {
  DEFAULT_SLA_DAYS,
  effectiveStatus,
  emptyCounts,
  findingsPermissions,
  findingSeverities,
  MAX_ACCEPT_DAYS,
  planBranchScan,
  ScanOutputs,
  gateScanners,
  scannerSteps,
  splitArtifactFindings,
  type AcceptFindingInput,
  type CiGate,
  type FindingChange,
  type FindingDetail,
  type FindingEventPayloads,
  type FindingStatus,
  type GateFinding,
  type ListFindingsQuery,
  type Overview,
  type ScanFinding,
  type Scanner,
  type SlaDays,
  type TrackedFinding,
} from './model.js';
import * as q from './store.js';

/** Tracked findings: the CI gate step that records and judges them, and the API over them. */
export interface Findings {
  list(principal: Principal, query: ListFindingsQuery): Promise<{ items: TrackedFinding[]; nextCursor: string | null }>;
  /** One finding with its history (the runs that saw it, newest first). */
  get(principal: Principal, id: string): Promise<FindingDetail>;
  /** Accepts the risk until a date (the owning team; a critical finding needs a platform admin). */
  accept(principal: Principal, id: string, input: AcceptFindingInput): Promise<TrackedFinding>;
  /** Counts for the organisation: open by severity, accepted, overdue, recently fixed, per team. */
  overview(principal: Principal): Promise<Overview>;
  /**
   * Records the package stage's artifact scan of a run as tracked findings of the `artifact` scanner
   * (a bundled package's advisory the dependency audit tracks on this branch counts as that finding).
   * Returns every finding of the scan as the step judges it: tracked here, or the dependency finding it is.
   */
  trackArtifactScan(run: PlatformStepContext['run'], findings: readonly ScanFinding[], complete: boolean): Promise<ArtifactScanTracking>;
  /** The standard pipeline's `security.ci-gate` step. */
  ciGateStep: PlatformStepHandler;
}

/** What recording an artifact scan did; `findings` holds each current finding with its tracked status. */
export interface ArtifactScanTracking {
  findings: (GateFinding & { sameAsDependencyFinding: boolean })[];
  fixed: number;
}

export interface FindingsOptions {
  /** The policy layer's `ci` point (see ciGateAdmission in src/policy). */
  gate: CiGate;
  /** Days to fix by severity (null: no due date); defaults: critical 7, high 30, medium and low none. */
  slaDays?: Partial<SlaDays>;
}

const MAX_HISTORY = 200;
const MAX_LOGGED = 200;

/** The scan results the gate may use: outputs of scan steps that passed, validated (step outputs read back are input). */
function collectScans(ctx: PlatformStepContext): { findings: ScanFinding[]; complete: Set<Scanner>; missing: string[] } {
  const findings: ScanFinding[] = [];
  const complete = new Set<Scanner>();
  const missing: string[] = [];
  for (const scanner of gateScanners) {
    const step = scannerSteps[scanner];
    const out = ctx.outputs[step];
    if (out === undefined) {
      missing.push(`${step} (did not pass)`);
      continue;
    }
    const parsed = ScanOutputs.safeParse(out);
    if (!parsed.success || parsed.data.scanner !== scanner) {
      missing.push(`${step} (no findings in its outputs)`);
      continue;
    }
    findings.push(...parsed.data.findings.filter((f) => f.scanner === scanner));
    if (parsed.data.complete) complete.add(scanner);
    else missing.push(`${step} (more than the gate takes; nothing of it is marked fixed)`);
  }
  return { findings, complete, missing };
}

export function createFindings(kernel: Kernel, options: FindingsOptions): Findings {
  const { store, ledger, clock } = kernel;
  const sla: SlaDays = { ...DEFAULT_SLA_DAYS, ...options.slaDays };
  const nowIso = () => toIso(clock.now());

  /** Applies one run's scan of its branch; returns the gate's view of each current finding. */
  async function record(run: PlatformStepContext['run'], scan: { findings: ScanFinding[]; complete: Set<Scanner> }, actor = 'system:ci-gate'): Promise<{ gate: GateFinding[]; fixed: number }> {
    const branch = run.ref.replace(/^refs\/heads\//, '');
    const now = clock.now();
    const at = toIso(now);
    return store.transaction(async (tx) => {
      const changes = planBranchScan(await q.knownFindings(tx, run.repository), { branch, findings: scan.findings, completeScanners: scan.complete }, now, sla);
      const gate: GateFinding[] = [];
      let fixed = 0;
      const event = async <K extends keyof FindingEventPayloads>(kind: K, payload: FindingEventPayloads[K]) =>
        ledger.append({ kind, subjects: [`repository:${run.repository}`, run.ownerRef, `pipeline-run:${run.id}`], actor, payload: { ...payload } }, { db: tx });
      for (const change of changes) {
        const seen = await apply(tx, change, { run, branch, at });
        if (change.kind === 'absent') {
          if (change.fixed) {
            fixed++;
            const before = await q.findFinding(tx, change.id, at);
            if (before) await event('security.finding.fixed', { id: change.id, repository: run.repository, rule: before.rule, severity: before.severity, runId: run.id });
          }
          continue;
        }
        const f = change.finding;
        const status: FindingStatus = change.kind === 'open' ? 'open' : change.status;
        gate.push({ id: seen!, rule: f.rule, severity: f.severity, scanner: f.scanner, file: f.file, line: f.line, package: f.package?.name ?? null, fixVersion: f.package?.fixVersion ?? null, status, dueAt: change.dueAt, new: change.kind === 'open' });
        if (change.kind === 'open') await event('security.finding.opened', { id: seen!, repository: run.repository, rule: f.rule, severity: f.severity, runId: run.id, dueAt: change.dueAt });
        else if (change.reopened) await event('security.finding.reopened', { id: seen!, repository: run.repository, rule: f.rule, severity: f.severity, runId: run.id });
      }
      return { gate, fixed };
    });
  }

  async function apply(tx: Tx, change: FindingChange, ctx: { run: PlatformStepContext['run']; branch: string; at: string }): Promise<string | undefined> {
    const { run, branch, at } = ctx;
    if (change.kind === 'absent') {
      await q.markAbsent(tx, { id: change.id, branch, fixed: change.fixed, at });
      return undefined;
    }
    let id: string;
    if (change.kind === 'open') id = await q.insertFinding(tx, { id: newId(), repository: run.repository, owner: run.ownerRef, finding: change.finding, branch, dueAt: change.dueAt, at });
    else {
      id = change.id;
      await q.markSeen(tx, { id, owner: run.ownerRef, finding: change.finding, branch, status: change.status, dueAt: change.dueAt, at });
    }
    await q.insertSighting(tx, id, { runId: run.id, branch, sha: run.sha, severity: change.finding.severity, seenAt: at });
    return id;
  }

  async function ciGateStep(ctx: PlatformStepContext): Promise<PlatformStepResult> {
    const scan = collectScans(ctx);
    for (const m of scan.missing) ctx.log(`no complete result from ${m}`);
    if (scan.complete.size === 0 && scan.findings.length === 0) {
      // Scans skipped (a failed build) or all failed: there is no result to judge, and judging an empty
      // one would record a decision, and show the stage as passed, for code nobody scanned.
      return { status: 'skipped', message: 'no scan step passed, so there is nothing to judge' };
    }
    const { gate, fixed } = await record(ctx.run, scan);
    const counts = emptyCounts();
    for (const f of gate) if (f.status === 'open') counts[f.severity]++;
    const accepted = gate.filter((f) => f.status === 'accepted').length;
    for (const f of gate.slice(0, MAX_LOGGED)) {
      ctx.log(`${f.severity.toUpperCase()} ${f.status}${f.new ? ' (new)' : ''} ${f.rule} ${f.file}${f.line !== null ? `:${f.line}` : ''}${f.package !== null ? ` ${f.package}${f.fixVersion !== null ? ` fixed in ${f.fixVersion}` : ''}` : ''}${f.dueAt !== null && f.status === 'open' ? ` due ${f.dueAt.slice(0, 10)}` : ''}`);
    }
    if (gate.length > MAX_LOGGED) ctx.log(`… and ${gate.length - MAX_LOGGED} more`);
    const decision = await options.gate({ runId: ctx.run.id, repository: ctx.run.repository, owner: ctx.run.ownerRef, ref: ctx.run.ref, sha: ctx.run.sha, isDefaultBranch: ctx.run.isDefaultBranch, findings: gate });
    const summary = `${findingSeverities.map((s) => `${counts[s]} ${s}`).join(', ')} open; ${accepted} accepted; ${gate.filter((f) => f.new).length} new; ${fixed} fixed`;
    ctx.log(`ci-gate: ${summary}; ${decision.allowed ? 'allowed' : 'denied'}`);
    for (const d of decision.denials) ctx.log(`denied by ${d.policy}/${d.rule}: ${d.message}`);
    const outputs = { allowed: decision.allowed, judged: gate.length, open: counts, accepted, fixed, new: gate.filter((f) => f.new).length };
    if (!decision.allowed) return { status: 'failed', message: decision.denials.map((d) => `${d.policy}: ${d.message}`).join('; '), outputs };
    return { status: 'passed', message: summary, outputs };
  }

  async function trackArtifactScan(run: PlatformStepContext['run'], scanned: readonly ScanFinding[], complete: boolean): Promise<ArtifactScanTracking> {
    const branch = run.ref.replace(/^refs\/heads\//, '');
    const now = clock.now();
    // The ci-gate of this run (before the package stage) has recorded this commit's dependency findings.
    const { track, sameAs } = splitArtifactFindings(scanned, await q.dependencyFindingRefs(store, run.repository), branch);
    const { gate, fixed } = await record(run, { findings: track, complete: complete ? new Set<Scanner>(['artifact']) : new Set<Scanner>() }, 'system:artifact-scan');
    const findings: ArtifactScanTracking['findings'] = gate.map((g) => ({ ...g, sameAsDependencyFinding: false }));
    for (const { finding: f, of } of sameAs) {
      findings.push({
        id: of.id, rule: f.rule, severity: f.severity, scanner: 'dependency', file: f.file, line: f.line, package: f.package?.name ?? null, fixVersion: f.package?.fixVersion ?? null,
        status: effectiveStatus(of.status, of.acceptedUntil, now), dueAt: null, new: false, sameAsDependencyFinding: true,
      });
    }
    return { findings, fixed };
  }

  return {
    trackArtifactScan,

    async list(principal, query) {
      authorize(principal, findingsPermissions.read);
      const now = nowIso();
      let after: { severity: TrackedFinding['severity']; lastSeenAt: string; id: string } | undefined;
      if (query.after !== undefined) {
        const last = await q.findFinding(store, query.after, now);
        if (!last) throw new InputError(`after: no finding ${query.after}; pass the id of the last finding of the previous page`);
        after = { severity: last.severity, lastSeenAt: last.lastSeenAt, id: last.id };
      }
      const owner = query.owner === undefined ? undefined : query.owner.includes(':') ? query.owner.toLowerCase() : `group:default/${query.owner.toLowerCase()}`;
      const items = await q.selectFindings(store, { repository: query.service, owner, severity: query.severity, status: query.status, overdue: query.overdue, limit: query.limit, after }, now);
      return { items, nextCursor: items.length === query.limit ? items[items.length - 1]!.id : null };
    },

    async get(principal, id) {
      authorize(principal, findingsPermissions.read);
      const finding = await q.findFinding(store, id, nowIso());
      if (!finding) throw new NotFoundError(`no security finding ${id}`);
      return { ...finding, history: await q.selectSightings(store, id, MAX_HISTORY) };
    },

    async accept(principal, id, input) {
      const now = clock.now();
      const finding = await q.findFinding(store, id, toIso(now));
      if (!finding) throw new NotFoundError(`no security finding ${id}`);
      authorize(principal, findingsPermissions.accept, { type: 'security finding', id, ownerRef: finding.owner });
      // A critical finding blocks the pipeline; waiving that is a platform decision, as policy exceptions are.
      if (finding.severity === 'critical' && principal.kind === 'user' && principal.role !== 'platform-admin') {
        throw new NotAllowedError('accepting a critical finding needs the platform-admin role; fix it, or ask an admin');
      }
      if (finding.status === 'fixed') throw new ConflictError(`finding ${id} is fixed; there is no risk left to accept`);
      const until = new Date(input.expiresAt);
      if (until.getTime() <= now.getTime()) throw new InputError(`expiresAt: ${input.expiresAt} is in the past`);
      if (until.getTime() - now.getTime() > MAX_ACCEPT_DAYS * 86_400_000) throw new InputError(`expiresAt: a risk is accepted for at most ${MAX_ACCEPT_DAYS} days; accept it again when it ends`);
      const acceptance = { by: principalRef(principal), reason: input.reason, until: toIso(until), at: toIso(now) };
      await store.transaction(async (tx) => {
        await q.acceptFinding(tx, id, acceptance);
        const payload: FindingEventPayloads['security.finding.accepted'] = { id, repository: finding.repository, rule: finding.rule, severity: finding.severity, reason: input.reason, until: acceptance.until };
        await ledger.append({ kind: 'security.finding.accepted', subjects: [`repository:${finding.repository}`, finding.owner], actor: acceptance.by, payload: { ...payload } }, { db: tx });
      });
      return (await q.findFinding(store, id, toIso(now)))!;
    },

    async overview(principal) {
      authorize(principal, findingsPermissions.read);
      const now = clock.now();
      const rows = await q.overviewRows(store, toIso(now), toIso(new Date(now.getTime() - 30 * 86_400_000)));
      const overview: Overview = { open: emptyCounts(), accepted: 0, overdue: 0, fixedLast30Days: 0, teams: [] };
      const teams = new Map<string, Overview['teams'][number]>();
      for (const r of rows) {
        overview.open[r.severity] += r.open;
        overview.accepted += r.accepted;
        overview.overdue += r.overdue;
        overview.fixedLast30Days += r.fixed;
        if (r.open === 0) continue;
        const team = teams.get(r.owner) ?? { owner: r.owner, open: emptyCounts(), overdue: 0 };
        team.open[r.severity] += r.open;
        team.overdue += r.overdue;
        teams.set(r.owner, team);
      }
      overview.teams = [...teams.values()].sort((a, b) => b.open.critical - a.open.critical || b.open.high - a.open.high || b.overdue - a.overdue || a.owner.localeCompare(b.owner));
      return overview;
    },

    ciGateStep,
  };
}
