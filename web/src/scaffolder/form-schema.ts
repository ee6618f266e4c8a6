import { retrieveSchema, type ErrorSchema, type RJSFSchema, type UiSchema } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';

/** One parameter page ready for rjsf: the JSON Schema without `ui:*` keys, and those keys as a uiSchema. */
export interface FormPage {
  title: string;
  description?: string;
  schema: RJSFSchema;
  uiSchema: UiSchema;
  /** Backstage's `when: ${{ … }}`: the page shows only when it holds; the server renders it (POST …/shown-steps). */
  when?: string;
}

/** Which pages show: `shown[i] === false` hides page i; unknown (undefined) counts as shown. */
export type ShownPages = readonly (boolean | undefined)[];

const isShown = (shown: ShownPages | undefined, index: number) => shown?.[index] !== false;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Moves Backstage's inline `ui:*` hints out of a parameter page into a uiSchema of the same shape, as
 * Backstage's extractSchemaFromStep does: properties and array items nest, while the branches of
 * anyOf/oneOf/allOf, dependencies and if/then/else describe the same fields, so their hints merge into
 * this level.
 */
export function extractUiSchema(input: JsonObject): { schema: JsonObject; uiSchema: JsonObject } {
  const schema = structuredClone(input);
  const uiSchema: JsonObject = {};
  visit(schema, uiSchema);
  return { schema, uiSchema };
}

function visit(schema: JsonObject, uiSchema: JsonObject): void {
  for (const key of Object.keys(schema)) {
    if (!key.startsWith('ui:')) continue;
    uiSchema[key] = schema[key];
    delete schema[key];
  }
  const { properties, items, anyOf, oneOf, allOf, dependencies, then: thenBranch, else: elseBranch, if: condition } = schema;
  if (isObject(properties)) {
    for (const [name, node] of Object.entries(properties)) {
      if (!isObject(node)) continue;
      const inner = isObject(uiSchema[name]) ? (uiSchema[name] as JsonObject) : {};
      uiSchema[name] = inner;
      visit(node, inner);
    }
  }
  if (isObject(items)) {
    const inner = isObject(uiSchema.items) ? (uiSchema.items as JsonObject) : {};
    uiSchema.items = inner;
    visit(items, inner);
  }
  for (const branch of [anyOf, oneOf, allOf]) {
    if (Array.isArray(branch)) for (const node of branch) if (isObject(node)) visit(node, uiSchema);
  }
  for (const branch of [thenBranch, elseBranch]) if (isObject(branch)) visit(branch, uiSchema);
  // A condition only tests values; hints written there show nowhere, but must not reach rjsf's schema.
  if (isObject(condition)) visit(condition, {});
  if (isObject(dependencies)) {
    for (const node of Object.values(dependencies)) if (isObject(node)) visit(node, uiSchema);
  }
}

export function toFormPages(steps: { title: string; description?: string; schema: JsonObject }[]): FormPage[] {
  return steps.map((step) => {
    const { schema, uiSchema } = extractUiSchema(step.schema);
    // The stepper shows the page title; rjsf would repeat it as a heading inside the form.
    delete schema.title;
    delete schema.description;
    const when = typeof schema.when === 'string' ? schema.when : undefined;
    delete schema.when;
    return {
      title: step.title,
      ...(step.description !== undefined ? { description: step.description } : {}),
      schema: schema as RJSFSchema,
      uiSchema: uiSchema as UiSchema,
      ...(when !== undefined ? { when } : {}),
    };
  });
}

export interface FieldError {
  /** Dotted path in the values (`name`, `advanced.replicas`); `(values)` for the whole object. */
  field: string;
  message: string;
}

const valuesPrefix = "values do not match the template's parameters: ";

/**
 * The per-field problems of the server's 400 on task creation, whose message is
 * `values do not match the template's parameters: name: must match pattern "…"; owner: is required`.
 * Splits only before `<path>: `, so a message that itself contains "; " stays whole.
 */
export function parseFieldErrors(message: string): FieldError[] {
  const start = message.indexOf(valuesPrefix);
  if (start < 0) return [];
  return message
    .slice(start + valuesPrefix.length)
    .split(/; (?=[\w.$()[\]-]+: )/)
    .flatMap((part) => {
      const colon = part.indexOf(': ');
      return colon > 0 ? [{ field: part.slice(0, colon), message: part.slice(colon + 2) }] : [];
    });
}

/** Field problems as rjsf's ErrorSchema, to show each message on its field. */
export function toErrorSchema(errors: FieldError[]): ErrorSchema {
  const root: JsonObject = {};
  for (const { field, message } of errors) {
    let node = root;
    if (field !== '(values)') {
      for (const part of field.split('.')) {
        if (!isObject(node[part])) node[part] = {};
        node = node[part] as JsonObject;
      }
    }
    node.__errors = [...((node.__errors as string[] | undefined) ?? []), message];
  }
  return root as ErrorSchema;
}

/**
 * A page's top-level properties for the values given: those of its conditional parts (dependencies,
 * if/then/else) included as rjsf shows them, those of branches the values did not choose left out.
 */
export function visibleProperties(page: FormPage, values: Record<string, unknown>): JsonObject {
  const resolved = retrieveSchema(validator, page.schema, page.schema, values);
  return isObject(resolved.properties) ? resolved.properties : {};
}

/** The page that asks for a field (by its top-level property), so a server error sends the user back there. */
export function pageOfField(pages: FormPage[], field: string, values: Record<string, unknown> = {}, shown?: ShownPages): number {
  const top = field.split('.')[0] ?? field;
  return pages.findIndex((page, index) => isShown(shown, index) && top in visibleProperties(page, values));
}

/**
 * The values a form submits: those of fields some page shows for these values. A field of a
 * conditional branch the user switched away from keeps its value in rjsf's data; it is not on the
 * review and is not sent either (rjsf's omitExtraData, across pages).
 */
export function submittedValues(pages: FormPage[], values: Record<string, unknown>, shown?: ShownPages): Record<string, unknown> {
  const fields = new Set(pages.flatMap((page, index) => (isShown(shown, index) ? Object.keys(visibleProperties(page, values)) : [])));
  return Object.fromEntries(Object.entries(values).filter(([key]) => fields.has(key)));
}

export interface ReviewRow {
  /** The index of the page that asks for the value. */
  page: number;
  field: string;
  label: string;
  value: string;
}

/** Every value of every shown page, labelled by its title, for the review step; passwords are masked. */
export function reviewRows(pages: FormPage[], values: Record<string, unknown>, shown?: ShownPages): ReviewRow[] {
  return pages.flatMap((page, pageIndex) => {
    if (!isShown(shown, pageIndex)) return [];
    const properties = visibleProperties(page, values);
    return Object.entries(properties).flatMap(([field, node]) => {
      const ui = isObject(page.uiSchema[field]) ? (page.uiSchema[field] as JsonObject) : {};
      // Backstage's review hints: `ui:backstage: { review: { show: false } }` or `{ review: { mask: '***' } }`.
      const backstage = isObject(ui['ui:backstage']) ? ui['ui:backstage'] : {};
      const review = isObject(backstage.review) ? backstage.review : {};
      if (review.show === false || ui['ui:widget'] === 'hidden') return [];
      const title = isObject(node) && typeof node.title === 'string' ? node.title : field;
      const mask = typeof review.mask === 'string' ? review.mask : ui['ui:widget'] === 'password' || ui['ui:field'] === 'Secret' ? '••••••' : undefined;
      return [{ page: pageIndex, field, label: title, value: mask !== undefined && values[field] !== undefined ? mask : formatValue(values[field]) }];
    });
  });
}

export function formatValue(value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

/** The page to go to from `from` in direction `step` (+1 next, -1 back), skipping hidden pages; `pages.length` is the review. */
export function nextPage(pageCount: number, from: number, step: 1 | -1, shown?: ShownPages): number {
  for (let index = from + step; index >= 0 && index < pageCount; index += step) if (isShown(shown, index)) return index;
  return step === 1 ? pageCount : from;
}
