import { Ajv, type ErrorObject } from 'ajv';
import { createRequire } from 'node:module';
import { InputError } from '../kernel/index.js';
import { ExpressionError, isTruthy, renderValue } from './expressions.js';

// Template parameters: the pages' JSON Schema checked with ajv, values validated against the pages the
// form shows, one message per field (issue #4, "Bad input").

/** A JSON Schema object as templates write it (parameters pages); `ui:*` keys ride along. */
export type JsonSchema = Record<string, unknown>;

// ajv-formats is CommonJS whose callable is `module.exports.default`; require sidesteps NodeNext's
// default-import typing of it.
const addFormats = (createRequire(import.meta.url)('ajv-formats') as { default: (ajv: Ajv) => Ajv }).default;

/** ajv for template parameters: unknown keywords (`ui:*`, `when`) are hints for the form, not rules. */
function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false, validateFormats: true });
  addFormats(ajv);
  // rjsf's file widget value (Backstage's kitchen-sink template uses it).
  ajv.addFormat('data-url', /^data:[^,]*,/);
  return ajv;
}

let sharedAjv: Ajv | undefined;
const ajv = () => (sharedAjv ??= createAjv());

/** Why a parameter page is not a JSON Schema ajv can compile, or undefined. */
export function schemaProblem(page: JsonSchema): string | undefined {
  try {
    ajv().compile(page);
    return undefined;
  } catch (err) {
    return `not a valid JSON Schema: ${(err as Error).message}`;
  }
}

export interface FieldProblem {
  /** Dotted path of the field in the values (`owner`, `advanced.replicas`). */
  field: string;
  message: string;
}

function fieldOf(error: ErrorObject): string {
  const base = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return base === '' ? missing : `${base}.${missing}`;
  }
  if (error.keyword === 'dependencies' || error.keyword === 'dependentRequired') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return base === '' ? missing : `${base}.${missing}`;
  }
  return base === '' ? '(values)' : base;
}

function messageOf(error: ErrorObject): string {
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'enum') return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (error.keyword === 'const') return `must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  return error.message ?? 'is invalid';
}

/** The branch index of an error under a oneOf/anyOf at `prefix` (`#/dependencies/kind/oneOf/`), if any. */
function branchOf(error: ErrorObject, prefix: string): number | undefined {
  if (!error.schemaPath.startsWith(prefix)) return undefined;
  const index = Number.parseInt(error.schemaPath.slice(prefix.length), 10);
  return Number.isNaN(index) ? undefined : index;
}

/**
 * The errors a person can act on, as rjsf shows them: for a failed oneOf/anyOf (conditional fields
 * written as `dependencies`), only the errors of the branch the values chose (the one with no
 * const/enum mismatch, then the fewest errors), not the "must match exactly one schema" summary nor the
 * other branches' "must be equal to constant"; for `if`, the errors of `then`/`else`, not "must match
 * "then" schema".
 */
function actionableErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  let kept = [...errors];
  for (const combinator of errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')) {
    const prefix = `${combinator.schemaPath}/`;
    const byBranch = new Map<number, ErrorObject[]>();
    for (const error of kept) {
      const branch = branchOf(error, prefix);
      if (branch !== undefined) byBranch.set(branch, [...(byBranch.get(branch) ?? []), error]);
    }
    // No branch errors left: several branches matched (oneOf); the summary is the message.
    if (byBranch.size === 0) continue;
    const score = (list: ErrorObject[]) => (list.some((e) => e.keyword === 'const' || e.keyword === 'enum') ? 1000 : 0) + list.length;
    const [best] = [...byBranch].sort((a, b) => score(a[1]) - score(b[1]) || a[0] - b[0])[0]!;
    kept = kept.filter((e) => e !== combinator && (branchOf(e, prefix) === undefined || branchOf(e, prefix) === best));
  }
  // A field's own rule (enum, pattern) speaks before what a conditional branch says about it.
  const conditional = (e: ErrorObject) => /\/(oneOf|anyOf|then|else)\//.test(e.schemaPath);
  return kept
    .filter((e) => {
      if (e.keyword !== 'if') return true;
      const base = e.schemaPath.replace(/\/if$/, '');
      return !kept.some((other) => other.schemaPath.startsWith(`${base}/then/`) || other.schemaPath.startsWith(`${base}/else/`));
    })
    .sort((a, b) => Number(conditional(a)) - Number(conditional(b)));
}

/**
 * Whether a parameter page is asked for with these values: Backstage's `when: ${{ … }}` on a page shows
 * it only when the expression is truthy (a page without `when` always shows). A `when` that fails to
 * render is the template's fault: an InputError naming the page.
 */
export function isPageShown(page: JsonSchema, index: number, values: Record<string, unknown>): boolean {
  if (page.when === undefined) return true;
  try {
    return isTruthy(renderValue(page.when, { parameters: values }));
  } catch (err) {
    if (err instanceof ExpressionError) throw new InputError(`spec.parameters[${index}].when: ${err.message}`);
    throw err;
  }
}

/**
 * Checks values against every parameter page whose `when` holds (Backstage scaffolder ≥ 4.3 shows a
 * page only then), returning one problem per field. Conditional parts (`dependencies` with oneOf,
 * `if`/`then`/`else`) are checked as ajv reads them, on the whole values, so a later page may depend
 * on an earlier page's answer exactly as the form shows it.
 */
export function validateValues(parameters: readonly JsonSchema[], values: Record<string, unknown>): FieldProblem[] {
  const problems = new Map<string, string>();
  for (const [index, page] of parameters.entries()) {
    if (!isPageShown(page, index, values)) continue;
    const validate = ajv().compile(page);
    if (validate(values)) continue;
    for (const error of actionableErrors(validate.errors ?? [])) {
      const field = fieldOf(error);
      if (!problems.has(field)) problems.set(field, messageOf(error));
    }
  }
  return [...problems].map(([field, message]) => ({ field, message }));
}

/** Throws one InputError naming every field that violates the schema, one message per field. */
export function assertValidValues(parameters: readonly JsonSchema[], values: Record<string, unknown>): void {
  const problems = validateValues(parameters, values);
  if (problems.length > 0) throw new InputError(`values do not match the template's parameters: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
}
