/**
 * The `ci` enforcement point as the pipeline's ci-gate step asks for it (issue #7, "CI gate"): the run
 * becomes a `PipelineResult` object with its security findings, every policy at `ci` judges it (the
 * built-in ones: an open critical finding denies, open high findings are reported), exceptions naming
 * the repository waive a rule, and the decision is recorded like every other (a ledger event, a report row).
 */
import type { Principal } from '../kernel/index.js';
import type { JsonObject, JsonValue } from './kyverno/json.js';
import type { Policy } from './service.js';

/** One finding of the run, as the CI gate hands it over. */
export interface CiFinding {
  id: string;
  rule: string;
  severity: string;
  scanner: string;
  file: string;
  line: number | null;
  package: string | null;
  fixVersion: string | null;
  /** open | accepted | fixed. */
  status: string;
  dueAt: string | null;
  /** First seen in this run. */
  new: boolean;
}

export interface CiGateRequest {
  runId: string;
  /** `owner/name` of the hosted repository. */
  repository: string;
  /** The owning team, `group:default/team-a`. */
  owner: string;
  ref: string;
  sha: string;
  isDefaultBranch: boolean;
  findings: readonly CiFinding[];
}

export interface CiGateDecision {
  allowed: boolean;
  denials: { policy: string; rule: string; message: string }[];
}

const SYSTEM: Principal = { kind: 'system', name: 'ci-gate' };

/** Null fields are left out, so CEL's `has(f.x)` and `f.?x` see absence rather than a null to trip on. */
function compact(finding: CiFinding): JsonObject {
  return Object.fromEntries(Object.entries(finding).filter(([, v]) => v !== null) as [string, JsonValue][]);
}

/** The object policies at `ci` see: `kind: PipelineResult`, named by the repository (namespace = its owner part). */
export function pipelineResultObject(request: CiGateRequest): JsonObject {
  const [namespace, name] = request.repository.split('/') as [string, string];
  const team = request.owner.replace(/^group:(?:[^/]+\/)?/, '');
  return {
    apiVersion: 'plinth.dev/v1alpha1',
    kind: 'PipelineResult',
    metadata: { name, namespace, labels: { owner: team } },
    spec: {
      repository: request.repository,
      ref: request.ref,
      branch: request.ref.replace(/^refs\/heads\//, ''),
      sha: request.sha,
      runId: request.runId,
      defaultBranch: request.isDefaultBranch,
      findings: request.findings.map(compact),
    },
  };
}

/** The decision function the security layer's ci-gate step calls (wired in src/app.ts). */
export function ciGateAdmission(policy: Policy) {
  return async (request: CiGateRequest): Promise<CiGateDecision> => {
    const decision = await policy.decide(SYSTEM, {
      point: 'ci',
      object: pipelineResultObject(request),
      owner: request.owner,
      subjects: [`pipeline-run:${request.runId}`, `repository:${request.repository}`],
    });
    return { allowed: decision.allowed, denials: decision.denials.map((d) => ({ policy: d.policy, rule: d.rule, message: d.message })) };
  };
}
