/**
 * Tracked findings (issue #9, "Severity policy"): what the security stage's scanners found, kept per
 * repository and fingerprint across runs, with first-seen / last-seen / fixed dates, an owner (the
 * repository's owning team) and, by severity, an SLA due date. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Permission } from '../../kernel/index.js';

export const findingSeverities = ['critical', 'high', 'medium', 'low'] as const;
export type FindingSeverity = (typeof findingSeverities)[number];
const rank: Record<FindingSeverity, number> = { critical: 4, high: 3, medium: 2, low: 1 };
export const severityRank = (s: FindingSeverity): number => rank[s];

/** The scanners of the security stage whose findings the CI gate tracks and judges, by the step that runs them. */
export const gateScanners = ['sast', 'dependency', 'secrets'] as const;
export type GateScanner = (typeof gateScanners)[number];
export const scannerSteps: Record<GateScanner, string> = { sast: 'sast-scan', dependency: 'dependency-audit', secrets: 'secrets-scan' };
/**
 * Every scanner whose findings are tracked: the gate's, and the package stage's artifact scan, which
 * runs after the gate (the artifact does not exist before) and records its own findings.
 */
export const scanners = [...gateScanners, 'artifact'] as const;
export type Scanner = (typeof scanners)[number];

/**
 * Finding statuses:
 * - open: seen in the latest complete scan of some branch, not accepted
 * - accepted: an owner (or, for a critical one, an admin) accepted the risk until a date; open again after it
 * - fixed: absent from the latest complete scan of every branch it was seen on
 */
export const findingStatuses = ['open', 'accepted', 'fixed'] as const;
export type FindingStatus = (typeof findingStatuses)[number];

/** Most findings one scan step hands to the gate; beyond it the scan counts as incomplete (nothing is marked fixed). */
export const MAX_STEP_FINDINGS = 500;

/** One finding as a scan step reports it in its outputs (normalized across scanners). */
export const ScanFinding = z.strictObject({
  scanner: z.enum(scanners),
  rule: z.string().min(1).max(200),
  severity: z.enum(findingSeverities),
  title: z.string().max(1000),
  /** Relative to the repository root. */
  file: z.string().max(1000),
  line: z.number().int().min(0).nullable(),
  /** For dependency findings: the package, the installed version and the lowest fixed version (null: no fix known). */
  package: z.strictObject({ name: z.string().max(300), version: z.string().max(200), fixVersion: z.string().max(200).nullable(), purl: z.string().max(1000) }).nullable(),
  /** Stable across runs and line moves; the key of the tracked finding within its repository. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ScanFinding = z.infer<typeof ScanFinding>;

/** What a scan step's outputs hold for the gate: its findings, and whether that list is the whole result. */
export const ScanOutputs = z.looseObject({
  scanner: z.enum(scanners),
  findings: z.array(ScanFinding).max(MAX_STEP_FINDINGS),
  complete: z.boolean(),
});
export type ScanOutputs = z.infer<typeof ScanOutputs>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Dependency findings are keyed by lockfile, package name and advisory, not version: an upgrade that
 * is still affected keeps the finding (with the new version); one past the fix makes it absent.
 */
export const dependencyFingerprint = (file: string, ecosystem: string, name: string, advisoryId: string): string => sha256(`dependency\0${file}\0${ecosystem}\0${name}\0${advisoryId}`);
/** Scanner-specific content fingerprints (SAST: rule + file + normalized line; secrets: rule + file + secret) namespaced by scanner. */
export const scopedFingerprint = (scanner: Scanner, fingerprint: string): string => sha256(`${scanner}\0${fingerprint}`);

/**
 * Artifact findings are keyed by what they are about inside the artifact: a bundled package's advisory
 * by ecosystem, name and advisory (like the dependency audit, not by version or path); a secret by the
 * secrets scan's fingerprint; a file mode or link by rule and entry path.
 */
export const artifactFingerprint = (kind: string, key: string): string => sha256(`artifact\0${kind}\0${key}`);

/** A package's purl without its version (and qualifiers): the same package whatever version is installed. */
export const unversionedPurl = (purl: string): string => {
  const bare = purl.replace(/[?#].*$/, '');
  const at = bare.lastIndexOf('@');
  return at > bare.lastIndexOf('/') ? bare.slice(0, at) : bare;
};

/** A dependency-audit finding as the artifact scan compares against it. */
export interface DependencyFindingRef {
  id: string;
  rule: string;
  purl: string;
  status: FindingStatus;
  acceptedUntil: string | null;
  presentOn: readonly string[];
}

/**
 * Splits an artifact scan's findings into those tracked under the artifact scanner and bundled-package
 * advisories the dependency audit already tracks on this branch (same package, same advisory): one
 * vulnerability in the lockfile and in the artifact is one finding, owned by the dependency audit.
 */
export function splitArtifactFindings(findings: readonly ScanFinding[], dependency: readonly DependencyFindingRef[], branch: string): { track: ScanFinding[]; sameAs: { finding: ScanFinding; of: DependencyFindingRef }[] } {
  const byKey = new Map<string, DependencyFindingRef>();
  for (const d of dependency) if (d.status !== 'fixed' && d.presentOn.includes(branch)) byKey.set(`${d.rule}\0${unversionedPurl(d.purl)}`, d);
  const track: ScanFinding[] = [];
  const sameAs: { finding: ScanFinding; of: DependencyFindingRef }[] = [];
  for (const f of findings) {
    const of = f.package !== null ? byKey.get(`${f.rule}\0${unversionedPurl(f.package.purl)}`) : undefined;
    if (of !== undefined) sameAs.push({ finding: f, of });
    else track.push(f);
  }
  return { track, sameAs };
}

/** Keeps one finding per fingerprint (a package installed at several paths is one finding) and caps the list. */
export function toScanOutputs(scanner: Scanner, findings: readonly ScanFinding[]): ScanOutputs {
  const byFingerprint = new Map<string, ScanFinding>();
  for (const f of [...findings].sort((a, b) => rank[b.severity] - rank[a.severity])) if (!byFingerprint.has(f.fingerprint)) byFingerprint.set(f.fingerprint, f);
  const unique = [...byFingerprint.values()];
  return { scanner, findings: unique.slice(0, MAX_STEP_FINDINGS), complete: unique.length <= MAX_STEP_FINDINGS };
}

/** Days to fix by severity; null: recorded, no due date. */
export type SlaDays = Record<FindingSeverity, number | null>;
/** Critical blocks the run and must be fixed within a week; high within 30 days (a common SCA SLA); medium and low are recorded. */
export const DEFAULT_SLA_DAYS: SlaDays = { critical: 7, high: 30, medium: null, low: null };

export function dueDateOf(severity: FindingSeverity, from: Date, sla: SlaDays): string | null {
  const days = sla[severity];
  return days === null ? null : new Date(from.getTime() + days * 86_400_000).toISOString();
}

/** A tracked finding as served. */
export interface TrackedFinding {
  id: string;
  repository: string;
  /** The repository's owning team when the finding was last seen (`group:default/team-a`). */
  owner: string;
  scanner: Scanner;
  fingerprint: string;
  rule: string;
  severity: FindingSeverity;
  title: string;
  file: string;
  line: number | null;
  package: ScanFinding['package'];
  /** The stored status; `accepted` past `acceptedUntil` is served as `open`. */
  status: FindingStatus;
  firstSeenAt: string;
  lastSeenAt: string;
  fixedAt: string | null;
  dueAt: string | null;
  overdue: boolean;
  acceptance: { by: string; reason: string; until: string; at: string } | null;
  /** Branches whose latest complete scan has it. */
  branches: string[];
}

/** What a stored row knows before the gate of one run (only what the plan needs). */
export interface KnownFinding {
  id: string;
  fingerprint: string;
  scanner: Scanner;
  severity: FindingSeverity;
  status: FindingStatus;
  acceptedUntil: string | null;
  dueAt: string | null;
  /** Branches whose latest complete scan had it. */
  presentOn: readonly string[];
}

/** The scan of one branch in one run: its findings and which scanners reported completely. */
export interface BranchScan {
  branch: string;
  findings: readonly ScanFinding[];
  completeScanners: ReadonlySet<Scanner>;
}

/** The effect on one tracked finding of a branch's scan. */
export type FindingChange =
  | { kind: 'open'; finding: ScanFinding; dueAt: string | null }
  | { kind: 'seen'; id: string; finding: ScanFinding; status: FindingStatus; dueAt: string | null; reopened: boolean }
  | { kind: 'absent'; id: string; fixed: boolean };

/** Whether a stored status is in force at `now` (an expired acceptance is open again). */
export function effectiveStatus(status: FindingStatus, acceptedUntil: string | null, now: Date): FindingStatus {
  return status === 'accepted' && (acceptedUntil === null || Date.parse(acceptedUntil) <= now.getTime()) ? 'open' : status;
}

/**
 * Decides, for one branch's scan, what happens to every finding of the repository: new fingerprints
 * open (due by SLA), known ones are seen again (a fixed one reopens; a raised severity gets the shorter
 * due date), and findings present on this branch that a complete scanner no longer reports become
 * absent here — fixed once no branch has them. An incomplete scanner leaves its findings untouched.
 */
export function planBranchScan(known: readonly KnownFinding[], scan: BranchScan, now: Date, sla: SlaDays): FindingChange[] {
  const byFingerprint = new Map(known.map((k) => [k.fingerprint, k]));
  const changes: FindingChange[] = [];
  const seen = new Set<string>();
  for (const finding of scan.findings) {
    if (seen.has(finding.fingerprint)) continue;
    seen.add(finding.fingerprint);
    const before = byFingerprint.get(finding.fingerprint);
    const due = dueDateOf(finding.severity, now, sla);
    if (before === undefined) {
      changes.push({ kind: 'open', finding, dueAt: due });
      continue;
    }
    const reopened = before.status === 'fixed';
    const status = reopened ? 'open' : effectiveStatus(before.status, before.acceptedUntil, now);
    // The earlier of the kept due date and the one this severity asks for now (a severity raised by a new advisory score).
    const dueAt = before.dueAt === null ? due : due === null ? before.dueAt : new Date(Math.min(Date.parse(before.dueAt), Date.parse(due))).toISOString();
    changes.push({ kind: 'seen', id: before.id, finding, status, dueAt, reopened });
  }
  for (const k of known) {
    if (seen.has(k.fingerprint) || !scan.completeScanners.has(k.scanner) || !k.presentOn.includes(scan.branch)) continue;
    const elsewhere = k.presentOn.some((b) => b !== scan.branch);
    changes.push({ kind: 'absent', id: k.id, fixed: !elsewhere && k.status !== 'fixed' });
  }
  return changes;
}

// ---- The gate's decision -----------------------------------------------------------------------------

/** A finding as the CI gate shows it to the policy layer (`object.spec.findings[]` of a PipelineResult). */
export interface GateFinding {
  id: string;
  rule: string;
  severity: FindingSeverity;
  scanner: Scanner;
  file: string;
  line: number | null;
  package: string | null;
  fixVersion: string | null;
  status: FindingStatus;
  dueAt: string | null;
  new: boolean;
}

/** The pipeline result the gate asks about. */
export interface GateRequest {
  runId: string;
  repository: string;
  /** `group:default/team-a`. */
  owner: string;
  ref: string;
  sha: string;
  isDefaultBranch: boolean;
  findings: GateFinding[];
}

export interface GateDecision {
  allowed: boolean;
  denials: { policy: string; rule: string; message: string }[];
}

/** The policy layer's CI-gate enforcement point as the security layer asks it (wired in src/app.ts). */
export type CiGate = (request: GateRequest) => Promise<GateDecision>;

// ---- API shapes --------------------------------------------------------------------------------------

export const findingsPermissions = {
  read: { name: 'read security findings', verb: 'read' },
  accept: { name: 'accept a security finding', verb: 'write' },
} satisfies Record<string, Permission>;

const repositoryName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}\/[a-z0-9][a-z0-9._-]{0,99}$/i, 'a repository as owner/name, e.g. team-a/shipit');
const boolString = z.enum(['true', 'false']).transform((v) => v === 'true');

export const ListFindingsQuery = z.strictObject({
  /** A repository (`team-a/shipit`); the service of that name in the catalog is built from it. */
  service: repositoryName.optional(),
  /** An owning team: `team-a` or `group:default/team-a`. */
  owner: z.string().min(1).max(200).optional(),
  severity: z.enum(findingSeverities).optional(),
  status: z.enum(findingStatuses).optional(),
  /** Only open findings past their due date (`true`), or only those not overdue (`false`). */
  overdue: boolString.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The id of the last finding of the previous page. */
  after: z.uuid().optional(),
});
export type ListFindingsQuery = z.infer<typeof ListFindingsQuery>;

export const AcceptFindingInput = z.strictObject({
  reason: z.string().trim().min(3).max(2000),
  /** Until when the risk is accepted; at most a year ahead. */
  expiresAt: z.iso.datetime({ offset: true }),
});
export type AcceptFindingInput = z.infer<typeof AcceptFindingInput>;
export const MAX_ACCEPT_DAYS = 366;

const PackageView = z.object({ name: z.string(), version: z.string(), fixVersion: z.string().nullable(), purl: z.string() }).nullable();
export const FindingView = z.object({
  id: z.string(),
  repository: z.string(),
  owner: z.string(),
  scanner: z.enum(scanners),
  fingerprint: z.string(),
  rule: z.string(),
  severity: z.enum(findingSeverities),
  title: z.string(),
  file: z.string(),
  line: z.number().nullable(),
  package: PackageView,
  status: z.enum(findingStatuses),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  fixedAt: z.string().nullable(),
  dueAt: z.string().nullable(),
  overdue: z.boolean(),
  acceptance: z.object({ by: z.string(), reason: z.string(), until: z.string(), at: z.string() }).nullable(),
  branches: z.array(z.string()),
});

/** One run in which a finding was seen. */
export interface Sighting {
  runId: string;
  branch: string;
  sha: string;
  severity: FindingSeverity;
  seenAt: string;
}
export const SightingView = z.object({ runId: z.string(), branch: z.string(), sha: z.string(), severity: z.enum(findingSeverities), seenAt: z.string() });
export const FindingDetailView = FindingView.extend({ history: z.array(SightingView) });
export type FindingDetail = TrackedFinding & { history: Sighting[] };

const Counts = z.object({ critical: z.number(), high: z.number(), medium: z.number(), low: z.number() });
export const OverviewView = z.object({
  /** Open findings (accepted ones not counted) by severity. */
  open: Counts,
  accepted: z.number(),
  overdue: z.number(),
  /** Findings fixed in the last 30 days. */
  fixedLast30Days: z.number(),
  teams: z.array(z.object({ owner: z.string(), open: Counts, overdue: z.number() })),
});
export type Overview = z.infer<typeof OverviewView>;
export type SeverityCounts = z.infer<typeof Counts>;
export const emptyCounts = (): SeverityCounts => ({ critical: 0, high: 0, medium: 0, low: 0 });

/** Ledger payloads of tracked findings. */
export interface FindingEventPayloads {
  'security.finding.opened': { id: string; repository: string; rule: string; severity: FindingSeverity; runId: string; dueAt: string | null };
  'security.finding.reopened': { id: string; repository: string; rule: string; severity: FindingSeverity; runId: string };
  'security.finding.fixed': { id: string; repository: string; rule: string; severity: FindingSeverity; runId: string };
  'security.finding.accepted': { id: string; repository: string; rule: string; severity: FindingSeverity; reason: string; until: string };
}
