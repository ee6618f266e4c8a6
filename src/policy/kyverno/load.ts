/**
 * Loading policies from YAML text: parse, check against the Kyverno schema, compile. A file is
 * compiled once per distinct content (a content hash keys the cache), so reloading an unchanged
 * file is free and a changed one is compiled afresh.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { compilePolicyDocument, type CompiledPolicy } from './compile.js';
import { PolicyLoadError, type PolicyProblem } from './errors.js';
import { isJsonObject, type JsonValue } from './json.js';
import { policyDocumentSchema } from './model.js';
import { parseYamlDocuments, YamlError } from './yaml.js';

const cache = new Map<string, CompiledPolicy[]>();
const maxCachedFiles = 1000;

/** `spec.rules[0].validate` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)), '');
}

function problemsOf(error: z.ZodError): PolicyProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      return { path: formatPath(issue.path), reason: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}` };
    }
    return { path: formatPath(issue.path), reason: issue.message };
  });
}

/** Whether a document is a Kyverno policy (other documents in the same file are not ours to judge). */
function isKyvernoPolicy(value: JsonValue): boolean {
  return isJsonObject(value) && (value.kind === 'ClusterPolicy' || value.kind === 'Policy') && typeof value.apiVersion === 'string' && value.apiVersion.startsWith('kyverno.io/');
}

/** Validates and compiles one policy document; throws PolicyLoadError listing every problem. */
export function compilePolicy(value: JsonValue, source: string): CompiledPolicy {
  const parsed = policyDocumentSchema.safeParse(value);
  if (!parsed.success) throw new PolicyLoadError(source, problemsOf(parsed.error));
  const compiled = compilePolicyDocument(parsed.data);
  if (Array.isArray(compiled)) throw new PolicyLoadError(source, compiled);
  return compiled;
}

/**
 * Parses every `ClusterPolicy`/`Policy` document of a YAML file. Other kinds are refused, since a
 * policy file that silently ignored a document would hide a mistake.
 */
export function parseKyvernoPolicies(text: string, source: string): CompiledPolicy[] {
  const key = createHash('sha256').update(source).update('\0').update(text).digest('hex');
  const cached = cache.get(key);
  if (cached) return cached;
  let documents;
  try {
    documents = parseYamlDocuments(text, source);
  } catch (err) {
    if (err instanceof YamlError) throw new PolicyLoadError(source, [{ path: '', reason: err.message.replace(`${source}: `, '') }]);
    throw err;
  }
  const policies = documents.map(({ index, value }) => {
    const where = documents.length > 1 ? `${source} (document ${index + 1})` : source;
    if (!isKyvernoPolicy(value)) {
      const kind = isJsonObject(value) ? String(value.kind ?? 'no kind') : typeof value;
      throw new PolicyLoadError(where, [{ path: 'kind', reason: `expected a kyverno.io ClusterPolicy or Policy, found ${kind}` }]);
    }
    return compilePolicy(value, where);
  });
  if (cache.size >= maxCachedFiles) cache.clear();
  cache.set(key, policies);
  return policies;
}
