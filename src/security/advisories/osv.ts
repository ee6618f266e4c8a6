import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import { canonicalName } from '../deps/purl.js';
import { ecosystems, type Ecosystem, type PackageMatch, type Severity } from '../model.js';
import { cvss3BaseScore, severityOfScore, severityOfWord } from './cvss.js';
import { comparatorFor } from './versions.js';

// OSV advisories (https://ossf.github.io/osv-schema/). Unknown fields are kept: the document is stored
// as given, and what Plinth reads from it is validated here.

const rfc3339 = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, 'expected an RFC 3339 time such as 2024-01-31T12:00:00Z');
const version = z.string().min(1).max(200);
const OsvEvent = z.union([
  z.strictObject({ introduced: version }),
  z.strictObject({ fixed: version }),
  z.strictObject({ last_affected: version }),
  z.strictObject({ limit: version }),
]);
const OsvRange = z.looseObject({
  type: z.enum(['SEMVER', 'ECOSYSTEM', 'GIT']),
  repo: z.string().optional(),
  events: z.array(OsvEvent).min(1).max(500),
});
const OsvAffected = z.looseObject({
  package: z.looseObject({ ecosystem: z.string().min(1).max(100), name: z.string().min(1).max(300), purl: z.string().max(1000).optional() }).optional(),
  ranges: z.array(OsvRange).max(200).optional(),
  versions: z.array(version).max(20_000).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
  ecosystem_specific: z.record(z.string(), z.unknown()).optional(),
});
export const OsvAdvisory = z.looseObject({
  schema_version: z.string().optional(),
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'expected an OSV id such as GHSA-xxxx-xxxx-xxxx or PYSEC-2021-1'),
  modified: rfc3339,
  published: rfc3339.optional(),
  withdrawn: rfc3339.optional(),
  aliases: z.array(z.string().max(200)).max(100).optional(),
  related: z.array(z.string()).optional(),
  summary: z.string().max(5000).optional(),
  details: z.string().max(200_000).optional(),
  severity: z.array(z.looseObject({ type: z.string(), score: z.string().max(500) })).max(20).optional(),
  affected: z.array(OsvAffected).max(2000).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});
export type OsvAdvisory = z.infer<typeof OsvAdvisory>;
export type OsvAffected = z.infer<typeof OsvAffected>;
type OsvRange = z.infer<typeof OsvRange>;

/** Validates OSV records; one InputError lists every problem with its source and index. */
export function parseOsvRecords(values: readonly unknown[], source: string): OsvAdvisory[] {
  const out: OsvAdvisory[] = [];
  const problems: string[] = [];
  values.forEach((value, index) => {
    const parsed = OsvAdvisory.safeParse(value);
    if (parsed.success) return void out.push(parsed.data);
    const where = values.length > 1 ? `${source}[${index}]` : source;
    const id = typeof (value as { id?: unknown })?.id === 'string' ? ` (${(value as { id: string }).id})` : '';
    for (const issue of parsed.error.issues.slice(0, 3)) problems.push(`${where}${id}: ${issue.path.join('.') || '(record)'}: ${issue.message}`);
  });
  if (problems.length > 0) throw new InputError(`invalid OSV advisories: ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? `; and ${problems.length - 20} more` : ''}`);
  return out;
}

/** A JSON text holding one OSV record or an array of them. */
export function parseOsvText(text: string, source: string): OsvAdvisory[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  return parseOsvRecords(Array.isArray(json) ? json : [json], source);
}

export const supportedEcosystem = (value: string): Ecosystem | undefined => ecosystems.find((e) => e === value);

/** The severity of an advisory: a CVSS v3 vector's score first, then GHSA's database_specific.severity. */
export function severityOf(advisory: OsvAdvisory): { severity: Severity; score: number | null; vector: string | null } {
  for (const s of advisory.severity ?? []) {
    const score = s.type === 'CVSS_V3' ? cvss3BaseScore(s.score) : undefined;
    if (score !== undefined) return { severity: severityOfScore(score), score, vector: s.score };
  }
  const word = severityOfWord(advisory.database_specific?.severity) ?? advisory.affected?.map((a) => severityOfWord(a.database_specific?.severity ?? a.ecosystem_specific?.severity)).find((s) => s !== undefined);
  return { severity: word ?? 'unknown', score: null, vector: advisory.severity?.[0]?.score ?? null };
}

/** The affected entries of `advisory` for one package (names compared the way the ecosystem does). */
export function affectedEntriesFor(advisory: OsvAdvisory, ecosystem: Ecosystem, name: string): OsvAffected[] {
  const wanted = canonicalName(ecosystem, name);
  return (advisory.affected ?? []).filter((a) => a.package !== undefined && a.package.ecosystem === ecosystem && canonicalName(ecosystem, a.package.name) === wanted);
}

const eventVersion = (e: z.infer<typeof OsvEvent>): string => ('introduced' in e ? e.introduced : 'fixed' in e ? e.fixed : 'last_affected' in e ? e.last_affected : e.limit);

/**
 * OSV's evaluation of one SEMVER/ECOSYSTEM range: sort the events, walk them; a version is affected when
 * the nearest event at or below it is `introduced` (`introduced: "0"` = from the start); `fixed` is
 * exclusive, `last_affected` inclusive; `limit` only bounds GIT ranges and is ignored here.
 * Returns undefined when a version does not parse (the caller reports no match rather than guess).
 */
export function isInRange(installed: string, range: OsvRange, ecosystem: Ecosystem): boolean | undefined {
  const compare = comparatorFor(ecosystem);
  const keyed: { e: z.infer<typeof OsvEvent>; v: string }[] = [];
  for (const e of range.events) {
    if ('limit' in e) continue;
    const v = eventVersion(e);
    if (v === '0' && 'introduced' in e) keyed.push({ e, v });
    else if (compare(v, v) === undefined) return undefined;
    else keyed.push({ e, v });
  }
  if (compare(installed, installed) === undefined) return undefined;
  const order = (a: string, b: string) => (a === '0' ? (b === '0' ? 0 : -1) : b === '0' ? 1 : compare(a, b)!);
  keyed.sort((a, b) => order(a.v, b.v));
  let affected = false;
  for (const { e, v } of keyed) {
    if ('introduced' in e) {
      if (v === '0' || compare(installed, v)! >= 0) affected = true;
    } else if ('fixed' in e) {
      if (compare(installed, v)! >= 0) affected = false;
    } else if ('last_affected' in e) {
      if (compare(installed, v)! > 0) affected = false;
    }
  }
  return affected;
}

/** Whether `version` of the package is affected by `advisory`, and the fixed versions above it. */
export function matchAdvisory(advisory: OsvAdvisory, ecosystem: Ecosystem, name: string, version: string): { affected: boolean; fixed: string[] } {
  if (advisory.withdrawn !== undefined) return { affected: false, fixed: [] };
  const compare = comparatorFor(ecosystem);
  let affected = false;
  const fixed = new Set<string>();
  for (const entry of affectedEntriesFor(advisory, ecosystem, name)) {
    // An explicit versions list counts as well as the ranges (GIT ranges can only be matched through it).
    if ((entry.versions ?? []).some((v) => v === version || compare(v, version) === 0)) affected = true;
    for (const range of entry.ranges ?? []) {
      if (range.type === 'GIT') continue;
      if (isInRange(version, range, ecosystem) === true) affected = true;
      for (const e of range.events) if ('fixed' in e && (compare(e.fixed, version) ?? -1) > 0) fixed.add(e.fixed);
    }
  }
  const sorted = [...fixed].sort((a, b) => compare(a, b) ?? 0);
  return { affected, fixed: affected ? sorted : [] };
}

/** Every (package, advisory) match among `packages`; `advisoriesFor` narrows the advisories by package. */
export function matchPackages(
  packages: readonly { purl: string; ecosystem: Ecosystem; name: string; version: string }[],
  advisoriesFor: (ecosystem: Ecosystem, name: string) => readonly OsvAdvisory[],
): PackageMatch[] {
  const out: PackageMatch[] = [];
  for (const p of packages) {
    for (const advisory of advisoriesFor(p.ecosystem, p.name)) {
      const { affected, fixed } = matchAdvisory(advisory, p.ecosystem, p.name, p.version);
      if (!affected) continue;
      const { severity, score } = severityOf(advisory);
      out.push({ purl: p.purl, ecosystem: p.ecosystem, name: p.name, version: p.version, advisoryId: advisory.id, aliases: advisory.aliases ?? [], summary: advisory.summary ?? advisory.details?.slice(0, 200) ?? '', severity, score, fixed });
    }
  }
  return out;
}

/** An in-memory index of advisories by (ecosystem, canonical name), for local audits (`--advisories DIR`). */
export function indexAdvisories(advisories: readonly OsvAdvisory[]): (ecosystem: Ecosystem, name: string) => readonly OsvAdvisory[] {
  const index = new Map<string, OsvAdvisory[]>();
  for (const advisory of advisories) {
    const keys = new Set<string>();
    for (const a of advisory.affected ?? []) {
      const eco = a.package && supportedEcosystem(a.package.ecosystem);
      if (a.package && eco) keys.add(`${eco}\u0000${canonicalName(eco, a.package.name)}`);
    }
    for (const k of keys) {
      const list = index.get(k);
      if (list) list.push(advisory);
      else index.set(k, [advisory]);
    }
  }
  return (ecosystem, name) => index.get(`${ecosystem}\u0000${canonicalName(ecosystem, name)}`) ?? [];
}
