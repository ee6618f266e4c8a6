/**
 * The policy layer. This slice: a Kyverno-compatible validate engine (ClusterPolicy/Policy,
 * kyverno.io/v1 and v2beta1, JMESPath and CEL rules) and the runner for Kyverno CLI test files.
 */

/** Loading: YAML text → compiled, cached policies; a bad policy is refused with a PolicyLoadError. */
export { parseKyvernoPolicies, compilePolicy } from './kyverno/load.js';
export { PolicyLoadError, type PolicyProblem } from './kyverno/errors.js';
export type { CompiledPolicy, FailureAction } from './kyverno/compile.js';

/** Evaluation: one policy's rule verdicts for a request, and an admission decision over many policies. */
export { evaluatePolicy, rulesFor, type EvaluationInput, type PolicyResult, type RuleResult, type Verdict } from './kyverno/engine.js';
export { decideAdmission, type AdmissionDecision, type AdmissionDenial } from './kyverno/admission.js';
export type { RequestUserInfo } from './kyverno/match.js';
export type { Operation } from './kyverno/model.js';
export type { JsonObject, JsonValue } from './kyverno/json.js';

/** Kyverno CLI test files (`kyverno-test.yaml`): run them, or load their inputs. */
export { runKyvernoTestFile, findKyvernoTestFiles, loadKyvernoTestInputs, type TestFileReport, type ExpectedOutcome } from './kyverno/test-runner.js';

/** The layer: built-in and custom policies, exceptions, budgets and decisions at the enforcement points. */
export { createPolicy, deployAdmission, provisioningAdmission, policyPermissions, type Policy, type PolicyOptions, type DecisionRequest, type SpendSource, type ScanSource, type CatalogSource, type RunningObject, type ScanSummary } from './service.js';
export { policyRoutes } from './routes.js';
/** The CI gate (`ci` point): a pipeline result with its security findings → allow or deny, recorded. */
export { ciGateAdmission, pipelineResultObject, type CiGateRequest, type CiGateDecision, type CiFinding } from './ci-gate.js';
export { policyMigrations } from './migrations.js';
export { enforcementPoints, type EnforcementPoint, type Decision, type DecisionResult, type PolicyView, type ExceptionView } from './guardrails/model.js';
