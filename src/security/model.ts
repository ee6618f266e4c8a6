import { z } from 'zod';
import type { Permission } from '../kernel/index.js';

/** Package ecosystems the dependency audit resolves, spelled as OSV spells them. */
export const ecosystems = ['npm', 'PyPI', 'Go'] as const;
export type Ecosystem = (typeof ecosystems)[number];

/** Severity levels of a finding; `unknown` when an advisory carries neither a CVSS v3 vector nor a database severity. */
export const severities = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type Severity = (typeof severities)[number];
const severityRank: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, unknown: 0 };
export const severityAtLeast = (s: Severity, floor: Severity): boolean => severityRank[s] >= severityRank[floor];
export const compareSeverity = (a: Severity, b: Severity): number => severityRank[b] - severityRank[a];

export type HashAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
export interface PackageHash {
  alg: HashAlgorithm;
  /** Lowercase hex. */
  hex: string;
}

/** One installed package of a resolved dependency tree. */
export interface ResolvedPackage {
  /** Unique within the tree: the npm install path (`node_modules/a/node_modules/b`), or `name@version`. */
  key: string;
  ecosystem: Ecosystem;
  name: string;
  version: string;
  purl: string;
  /** Only needed by development dependencies. */
  dev: boolean;
  optional: boolean;
  hashes: PackageHash[];
  /** The license declared in the lockfile entry (SPDX id or expression), when present. */
  license: string | undefined;
  /** Where the package was downloaded from (npm `resolved`). */
  resolved: string | undefined;
  /** Keys of the packages this one depends on. */
  dependencies: string[];
  /** 1-based line of the package's entry in the lockfile (1 when not found). */
  line: number;
}

/** What one lockfile says is installed: the root project and every package, with the edges between them. */
export interface DependencyTree {
  /** The lockfile, relative to the scanned folder, with `/` separators. */
  file: string;
  ecosystem: Ecosystem;
  root: { name: string; version: string; purl: string; dependencies: string[] };
  packages: ResolvedPackage[];
  /** Entries skipped with a reason (an unpinned requirement, a link to nowhere). */
  warnings: string[];
}

/** A package matched by an advisory, as the audit endpoint answers (no tree context). */
export interface PackageMatch {
  purl: string;
  ecosystem: Ecosystem;
  name: string;
  version: string;
  advisoryId: string;
  aliases: string[];
  summary: string;
  severity: Severity;
  /** CVSS v3 base score when the advisory has a v3 vector. */
  score: number | null;
  /** Versions that fix it above the installed one, lowest first. */
  fixed: string[];
}

/** A VEX verdict applied to a finding; suppressed findings are reported, not dropped. */
export interface VexVerdict {
  status: 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
  justification: string | null;
  statement: string | null;
  source: string;
}

/** A match placed in its tree: where it is, how it got there, and whether VEX suppresses it. */
export interface Finding extends PackageMatch {
  /** The lockfile relative to the scanned folder. */
  file: string;
  line: number;
  /** = advisoryId: the rule that fired, for SARIF and the `findings` JSON shared with the other scanners. */
  rule: string;
  package: string;
  /** Paths from the root, `app > express > qs`, shortest first (at most 5). */
  paths: string[];
  dev: boolean;
  suppressed: boolean;
  vex: VexVerdict | null;
}

// ---- API shapes ----------------------------------------------------------------------------------

/** How many advisories one import request may carry; the CLI sends larger sets in batches. */
export const MAX_ADVISORIES_PER_IMPORT = 5000;
/** How many purls one audit request may carry. */
export const MAX_PURLS_PER_AUDIT = 10000;

export const ImportResult = z.object({
  imported: z.number().int(),
  updated: z.number().int(),
  skipped: z.number().int(),
});
export type ImportResult = z.infer<typeof ImportResult>;

export const AuditInput = z.strictObject({
  packages: z.array(z.string().min(5).max(1000)).max(MAX_PURLS_PER_AUDIT),
});
export type AuditInput = z.infer<typeof AuditInput>;

export const PackageMatchView = z.object({
  purl: z.string(),
  ecosystem: z.enum(ecosystems),
  name: z.string(),
  version: z.string(),
  advisoryId: z.string(),
  aliases: z.array(z.string()),
  summary: z.string(),
  severity: z.enum(severities),
  score: z.number().nullable(),
  fixed: z.array(z.string()),
});

export const ListAdvisoriesQuery = z.strictObject({
  /** A purl: `pkg:npm/lodash` lists every advisory of the package, `pkg:npm/lodash@4.17.15` only those affecting that version. */
  package: z.string().min(5).max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The last id of the previous page. */
  after: z.string().min(1).max(300).optional(),
});
export type ListAdvisoriesQuery = z.infer<typeof ListAdvisoriesQuery>;

export const AdvisorySummaryView = z.object({
  id: z.string(),
  aliases: z.array(z.string()),
  summary: z.string(),
  severity: z.enum(severities),
  score: z.number().nullable(),
  modified: z.string(),
  published: z.string().nullable(),
  withdrawn: z.string().nullable(),
  packages: z.array(z.object({ ecosystem: z.string(), name: z.string() })),
});
export type AdvisorySummary = z.infer<typeof AdvisorySummaryView>;

export const securityPermissions = {
  importAdvisories: { name: 'import advisories', verb: 'admin' },
  readAdvisories: { name: 'read advisories', verb: 'read' },
  audit: { name: 'audit dependencies', verb: 'read' },
  rotateKeys: { name: 'rotate the platform signing key', verb: 'admin' },
  readArtifacts: { name: 'read artifact SBOMs, signatures and provenance', verb: 'read' },
} satisfies Record<string, Permission>;

/** Ledger payloads of this layer's events. */
export interface SecurityEventPayloads {
  'security.advisories.imported': ImportResult & { total: number };
  'security.signing-key.created': { keyId: string; retired: string | null };
  'security.signing-key.rotated': { keyId: string; retired: string | null };
  'security.provenance.signed': { digest: string; name: string; keyId: string; runId: string; sbom: boolean; sbomFormats: ('cyclonedx' | 'spdx')[] };
}
