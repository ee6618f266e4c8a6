/** Scanner results → the normalized findings scan steps hand to the CI gate. */
import type { ArtifactFinding } from '../artifacts/scan.js';
import type { Finding as DependencyFinding } from '../model.js';
import type { SastFinding } from '../sast/scan.js';
import type { Finding as SecretFinding } from '../secrets/model.js';
import { artifactFingerprint, dependencyFingerprint, scopedFingerprint, type FindingSeverity, type ScanFinding } from './model.js';

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function fromSast(f: SastFinding): ScanFinding {
  return { scanner: 'sast', rule: f.rule, severity: f.severity, title: cut(f.message, 1000), file: f.file, line: f.line, package: null, fingerprint: scopedFingerprint('sast', f.fingerprint) };
}

/** The secret itself never leaves the scanner: the title names the rule and the redacted form. */
export function fromSecret(f: SecretFinding): ScanFinding {
  return { scanner: 'secrets', rule: f.rule, severity: f.severity, title: cut(`${f.description} (${f.secret})`, 1000), file: f.file, line: f.line, package: null, fingerprint: scopedFingerprint('secrets', f.fingerprint) };
}

/**
 * An advisory without a CVSS v3 vector or database severity (`unknown`) is tracked as medium: recorded
 * and visible, not blocking, until the advisory store knows better. VEX-suppressed findings are left out.
 */
export function fromDependency(f: DependencyFinding): ScanFinding | undefined {
  if (f.suppressed) return undefined;
  const severity: FindingSeverity = f.severity === 'unknown' ? 'medium' : f.severity;
  return {
    scanner: 'dependency',
    rule: f.rule,
    severity,
    title: cut(f.summary || f.rule, 1000),
    file: f.file,
    line: f.line,
    package: { name: f.package, version: f.version, fixVersion: f.fixed[0] ?? null, purl: f.purl },
    fingerprint: dependencyFingerprint(f.file, f.ecosystem, f.package, f.rule),
  };
}

/**
 * An artifact-scan finding: `file` is the entry inside the artifact. Its message already carries only the
 * redacted form of a secret. An advisory of unknown severity is tracked as medium, as for the audit.
 */
export function fromArtifact(f: ArtifactFinding): ScanFinding {
  const severity: FindingSeverity = f.severity === 'unknown' ? 'medium' : f.severity;
  return {
    scanner: 'artifact',
    rule: cut(f.rule, 200),
    severity,
    title: cut(f.message, 1000),
    file: cut(f.path, 1000),
    line: f.line,
    package: f.package,
    fingerprint: artifactFingerprint(f.kind, f.key),
  };
}
