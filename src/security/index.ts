/** Security: the advisory store (OSV), dependency audits of lockfiles (npm, PyPI, Go), VEX, and SBOMs (CycloneDX, SPDX). */
export { createSecurity, type Security } from './service.js';
export { securityRoutes } from './routes.js';
export { securityMigrations } from './migrations.js';
export { resolveProject, findLockfiles, parseLockfile, dependencyPaths, type ResolvedProject, type LockfileError } from './deps/resolve.js';
export { parsePurl, toPurl } from './deps/purl.js';
export { loadOsvPaths } from './advisories/load.js';
export { parseOsvRecords, parseOsvText, matchPackages, indexAdvisories, type OsvAdvisory } from './advisories/osv.js';
export { auditablePackages, findingsOf, summarize, failsAt, formatFinding, toSarif, type AuditSummary } from './audit.js';
export { parseVex, VEX_FILE, type VexDocument } from './vex.js';
export { cyclonedxSbom, type SbomOptions } from './sbom/cyclonedx.js';
export { spdxSbom } from './sbom/spdx.js';
export { severities, ecosystems, MAX_ADVISORIES_PER_IMPORT, MAX_PURLS_PER_AUDIT } from './model.js';
export type { DependencyTree, ResolvedPackage, Finding, PackageMatch, Severity, Ecosystem, ImportResult, AdvisorySummary, VexVerdict, SecurityEventPayloads } from './model.js';
/** The secrets scan (gitleaks-compatible rules), its reports and its pipeline step. */
export {
  scanSecrets,
  secretsScanStep,
  baselineOf,
  jsonReport as secretsJsonReport,
  sarifReport as secretsSarifReport,
  formatFinding as formatSecretFinding,
} from './secrets/index.js';
/** SAST for TypeScript and JavaScript. */
export { scanSast, sastSarif, formatSastFinding, sastScanStep, sastRuleIds, type SastFinding, type SastResult } from './sast/index.js';
/** Artifacts, signing keys, SLSA provenance and verification (issue #9, "Signing and provenance"). */
export { createSupplyChain, type SupplyChain, type SupplyChainOptions, type PublishedKeys, type BuildFacts, type BuildSboms, type AttestationSummary } from './supply-chain.js';
export { createSupplyChainSteps, type SupplyChainSteps } from './supply-chain-steps.js';
export { supplyChainRoutes, signingKeysRoutes } from './supply-chain-routes.js';
export { verifyEvidence, keyValidAt, type Evidence, type VerificationResult, type VerificationCheck } from './signing/verify.js';
export type { SigningKey, KeyStatus } from './signing/keys.js';
export { scanArtifact, type ArtifactFinding, type ArtifactScanResult } from './artifacts/scan.js';
export { DEFAULT_BUILDER_ID, SLSA_PROVENANCE_V1, CYCLONEDX_PREDICATE, SPDX_PREDICATE, attestationKinds, attestationPredicates, type AttestationKind, type SbomFormat } from './provenance/statements.js';
/** Tracked findings and the standard pipeline's CI gate (issue #9, "Severity policy"; issue #7, "CI gate"). */
export { createFindings, type Findings, type FindingsOptions } from './findings/service.js';
export { findingsRoutes } from './findings/routes.js';
export { DEFAULT_SLA_DAYS, findingSeverities, findingStatuses, scanners } from './findings/model.js';
export type { TrackedFinding, FindingDetail, Sighting, Overview, ScanFinding, FindingSeverity, FindingStatus, SlaDays, CiGate, GateRequest, GateDecision, GateFinding, FindingEventPayloads } from './findings/model.js';
