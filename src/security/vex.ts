import { z } from 'zod';
import { InputError } from '../kernel/index.js';
import { parsePurl } from './deps/purl.js';
import type { PackageMatch, VexVerdict } from './model.js';

// OpenVEX v0.2.0 (https://github.com/openvex/spec/blob/main/OPENVEX-SPEC.md). A project commits its
// statements as `openvex.json` at its root; `not_affected` and `fixed` suppress a finding, which is still
// reported with the justification.

/** Where the audit looks for a project's VEX document. */
export const VEX_FILE = 'openvex.json';

const justifications = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;
const Product = z.looseObject({ '@id': z.string().min(1).optional(), subcomponents: z.array(z.looseObject({ '@id': z.string().min(1).optional() })).optional() });
const Statement = z
  .looseObject({
    vulnerability: z.looseObject({ name: z.string().min(1).optional(), '@id': z.string().optional(), aliases: z.array(z.string()).optional() }),
    products: z.array(Product).min(1),
    status: z.enum(['not_affected', 'affected', 'fixed', 'under_investigation']),
    justification: z.enum(justifications).optional(),
    impact_statement: z.string().optional(),
    action_statement: z.string().optional(),
    status_notes: z.string().optional(),
    timestamp: z.string().optional(),
  })
  .refine((s) => s.status !== 'not_affected' || s.justification !== undefined || s.impact_statement !== undefined, {
    message: 'a not_affected statement needs a justification or an impact_statement',
  });
const VexDocument = z.looseObject({
  '@context': z.string().regex(/^https:\/\/openvex\.dev\/ns/, 'expected https://openvex.dev/ns/v0.2.0'),
  timestamp: z.string().optional(),
  statements: z.array(Statement).max(10_000),
});
export type VexDocument = z.infer<typeof VexDocument>;

/** Parses an OpenVEX document; an InputError names the file and the failing path. */
export function parseVex(text: string, source: string): VexDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = VexDocument.safeParse(json);
  if (!parsed.success) {
    throw new InputError(`${source}: ${parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** A purl without qualifiers, and without its version when the product names none (it then covers every version). */
function productMatches(productId: string, purl: string): boolean {
  if (!productId.startsWith('pkg:')) return false;
  try {
    const product = parsePurl(productId);
    const pkg = parsePurl(purl);
    return product.ecosystem === pkg.ecosystem && product.name === pkg.name && (product.version === undefined || product.version === pkg.version);
  } catch {
    return false;
  }
}

/** The latest statement about this vulnerability and package (later statements override earlier ones), if any. */
export function vexVerdictFor(doc: VexDocument, match: PackageMatch, source: string): VexVerdict | null {
  const names = new Set([match.advisoryId, ...match.aliases]);
  let best: { verdict: VexVerdict; time: string; index: number } | undefined;
  doc.statements.forEach((s, index) => {
    const vulnNames = [s.vulnerability.name, s.vulnerability['@id'], ...(s.vulnerability.aliases ?? [])].filter((n): n is string => n !== undefined);
    if (!vulnNames.some((n) => names.has(n))) return;
    const ids = s.products.flatMap((p) => [p['@id'], ...(p.subcomponents ?? []).map((c) => c['@id'])]).filter((id): id is string => id !== undefined);
    if (!ids.some((id) => productMatches(id, match.purl))) return;
    const time = s.timestamp ?? doc.timestamp ?? '';
    if (best !== undefined && time < best.time) return;
    best = {
      time,
      index,
      verdict: { status: s.status, justification: s.justification ?? null, statement: s.impact_statement ?? s.status_notes ?? s.action_statement ?? null, source },
    };
  });
  return best?.verdict ?? null;
}

export const suppresses = (verdict: VexVerdict | null): boolean => verdict !== null && (verdict.status === 'not_affected' || verdict.status === 'fixed');
