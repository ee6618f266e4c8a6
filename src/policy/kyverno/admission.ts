/**
 * An admission decision over a set of policies: the request is denied when a rule fails under
 * Enforce, or errors under Enforce in a policy whose failurePolicy is `Fail` (the default), so an
 * engine error never silently allows. Audit results are reported and never block.
 */
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy, type EvaluationInput, type PolicyResult, type RequestCache, type RuleResult } from './engine.js';

export interface AdmissionDenial {
  policy: string;
  rule: string;
  status: RuleResult['status'];
  message: string;
}

export interface AdmissionDecision {
  allowed: boolean;
  /** The Enforce failures (and errors) that deny the request. */
  denials: AdmissionDenial[];
  /** Every policy's results, Audit ones included. */
  results: PolicyResult[];
}

export function decideAdmission(policies: readonly CompiledPolicy[], input: EvaluationInput): AdmissionDecision {
  const results: PolicyResult[] = [];
  const denials: AdmissionDenial[] = [];
  const cache: RequestCache = new Map();
  for (const policy of policies) {
    const result = evaluatePolicy(policy, input, cache);
    results.push(result);
    for (const rule of result.results) {
      if (rule.failureAction !== 'Enforce') continue;
      const blocks = rule.status === 'fail' || (rule.status === 'error' && policy.failurePolicy === 'Fail');
      if (blocks) denials.push({ policy: policy.key, rule: rule.rule, status: rule.status, message: rule.message });
    }
  }
  return { allowed: denials.length === 0, denials, results };
}
