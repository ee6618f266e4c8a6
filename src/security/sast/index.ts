/** SAST for TypeScript/JavaScript: taint-lite rules on the compiler's syntax tree, JSON and SARIF, the pipeline step. */
export { scanSast, analyzeText, sastSarif, formatSastFinding, type SastFinding, type SastResult } from './scan.js';
export { sastRuleIds, sastRuleDescriptions, type SastRuleId, type SastSeverity } from './rules.js';
export { sastScanStep } from './pipeline-step.js';
