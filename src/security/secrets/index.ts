export type { Finding, FragmentSource, Rule, RuleProblem, ScanResult, SecretsConfig, Severity, Skipped, Allowlist } from './model.js';
/** Entropy, redaction and fingerprint helpers shared by reports and tests. */
export { shannonEntropy, redactSecret, contentFingerprint } from './model.js';
/** Gitleaks TOML loading (with `[extend] useDefault`) and the built-in rule set. */
export { loadSecretsConfig, defaultSecretsConfig, parseConfigToml } from './config.js';
export { DEFAULT_RULES_TOML } from './default-rules.js';
/** RE2 → JavaScript RegExp translation for gitleaks patterns. */
export { translateRe2, compileRe2, Re2SyntaxError } from './re2.js';
/** Runs the rules on one fragment of text. */
export { detectSecrets } from './detect.js';
/** Working-tree and commit-range scans, with baseline and `.gitleaksignore` applied. */
export { scanSecrets, resolveSecretsConfig, REPO_CONFIG_FILE, type SecretsScanRequest } from './scan.js';
export { scanTree, type TreeScanOptions } from './scan-tree.js';
export { scanGitRange, checkRange } from './scan-git.js';
/** The baseline of accepted findings. */
export { BASELINE_FILE, GITLEAKSIGNORE_FILE, BaselineFile, baselineOf, parseBaseline } from './baseline.js';
/** JSON and SARIF 2.1.0 reports. */
export { jsonReport, sarifReport, formatFinding, type SarifLog } from './report.js';
/** The `security.secrets-scan` platform step of the standard pipeline. */
export { secretsScanStep } from './pipeline-step.js';
