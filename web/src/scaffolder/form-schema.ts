import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';

/** One parameter page ready for rjsf: the JSON Schema without `ui:*` keys, and those keys as a uiSchema. */
export interface FormPage {
  title: string;
  description?: string;
  schema: RJSFSchema;
  uiSchema: UiSchema;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Moves Backstage's inline `ui:*` hints out of a parameter page into a uiSchema of the same shape, as
 * Backstage's extractSchemaFromStep does: properties and array items nest, while the branches of
 * anyOf/oneOf/allOf and dependencies describe the same fields, so their hints merge into this level.
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
  const { properties, items, anyOf, oneOf, allOf, dependencies } = schema;
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
    return { title: step.title, ...(step.description !== undefined ? { description: step.description } : {}), schema: schema as RJSFSchema, uiSchema: uiSchema as UiSchema };
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

/** The page that asks for a field (by its top-level property), so a server error sends the user back there. */
export function pageOfField(pages: FormPage[], field: string): number {
  const top = field.split('.')[0] ?? field;
  const index = pages.findIndex((page) => isObject(page.schema.properties) && top in page.schema.properties);
  return index;
}

export interface ReviewRow {
  /** The index of the page that asks for the value. */
  page: number;
  field: string;
  label: string;
  value: string;
}

/** Every value of every page, labelled by its title, for the review step; passwords are masked. */
export function reviewRows(pages: FormPage[], values: Record<string, unknown>): ReviewRow[] {
  return pages.flatMap((page, pageIndex) => {
    const properties = isObject(page.schema.properties) ? page.schema.properties : {};
    return Object.entries(properties).flatMap(([field, node]) => {
      const ui = isObject(page.uiSchema[field]) ? (page.uiSchema[field] as JsonObject) : {};
      // Backstage's review hints: `ui:backstage: { review: { show: false } }` or `{ review: { mask: '***' } }`.
      const backstage = isObject(ui['ui:backstage']) ? ui['ui:backstage'] : {};
      const review = isObject(backstage.review) ? backstage.review : {};
      if (review.show === false || ui['ui:widget'] === 'hidden') return [];
      const title = isObject(node) && typeof node.title === 'string' ? node.title : field;
      const mask = typeof review.mask === 'string' ? review.mask : ui['ui:widget'] === 'password' ? '••••••' : undefined;
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
