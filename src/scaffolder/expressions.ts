import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import vm from 'node:vm';

/**
 * `${{ … }}` expressions, rendered by nunjucks in a separate V8 realm (a `vm` context):
 *
 * - Nothing of the host crosses into the realm: values go in as JSON text and come back as strings, and
 *   the filters are realm code too. A template that reaches the realm's `Function` (the classic nunjucks
 *   injection `range.constructor("return process")()`) finds a global with nunjucks and no `process`,
 *   `require` or host object; the context's global has no prototype, so `this.constructor` does not lead
 *   to the host's `Object` either (Node's well-known vm escape).
 * - Inside the realm, member lookups and names are restricted to own data: `constructor`, `__proto__`,
 *   `prototype` and the accessor helpers read as undefined, functions have no members, and only the
 *   String/Array methods of the realm's own prototypes are callable.
 * - Every render runs under a time limit and `range()` is capped, so a template cannot hang a worker.
 * Backstage runs the same nunjucks bundle in isolated-vm (plugins/scaffolder-backend SecureTemplater.ts).
 */

const RENDER_TIMEOUT_MS = 1_000;
const MAX_RANGE_ITEMS = 10_000;

// The realm's own code: nunjucks (the browser bundle, no Node APIs), then our filters and lookups.
const realmSetup = `
'use strict';
const nunjucks = globalThis.nunjucks;
const blocked = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);
const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const rt = nunjucks.runtime;
rt.memberLookup = function (obj, val) {
  if (obj === undefined || obj === null) return undefined;
  const key = String(val);
  if (blocked.has(key) || typeof obj === 'function') return undefined;
  if (typeof obj === 'string' || Array.isArray(obj)) {
    if (own(obj, val)) return obj[val];
    const proto = typeof obj === 'string' ? String.prototype : Array.prototype;
    if (own(proto, key) && typeof proto[key] === 'function') return (...args) => proto[key].apply(obj, args);
    return undefined;
  }
  if (typeof obj !== 'object' || !own(obj, val)) return undefined;
  const value = obj[val];
  return typeof value === 'function' ? (...args) => value.apply(obj, args) : value;
};
const lookupName = rt.contextOrFrameLookup;
rt.contextOrFrameLookup = function (context, frame, name) {
  return blocked.has(String(name)) ? undefined : lookupName(context, frame, name);
};

function query(text) {
  const out = {};
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\\+/g, ' '));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\\+/g, ' '));
    if (!blocked.has(k)) out[k] = v;
  }
  return out;
}
// RepoUrlPicker values: "host?owner=o&repo=r" (also organization, workspace, project), as Backstage's parseRepoUrl.
function parseRepoUrl(url) {
  if (typeof url !== 'string' || url === '') throw new Error('parseRepoUrl: expected a repository URL like github.com?owner=o&repo=r');
  const q = url.indexOf('?');
  const host = (q < 0 ? url : url.slice(0, q)).replace(/^https?:\\/\\//, '').replace(/\\/$/, '');
  const params = q < 0 ? {} : query(url.slice(q + 1));
  if (!params.repo) throw new Error('parseRepoUrl: ' + url + ' has no repo query parameter');
  if (!params.owner && !params.organization && !params.workspace) throw new Error('parseRepoUrl: ' + url + ' has no owner query parameter');
  const out = { host, repo: params.repo };
  for (const k of ['owner', 'organization', 'workspace', 'project']) if (params[k]) out[k] = params[k];
  return out;
}
function parseEntityRef(ref, context) {
  if (typeof ref !== 'string' || ref === '') throw new Error('parseEntityRef: expected an entity ref like component:default/name');
  const opts = context && typeof context === 'object' ? context : {};
  const colon = ref.indexOf(':');
  const slash = ref.indexOf('/', colon + 1);
  const kind = colon > 0 ? ref.slice(0, colon) : opts.defaultKind;
  const namespace = slash > 0 ? ref.slice(colon + 1, slash) : (opts.defaultNamespace || 'default');
  const name = slash > 0 ? ref.slice(slash + 1) : ref.slice(colon + 1);
  if (!kind) throw new Error('parseEntityRef: ' + ref + ' has no kind and no defaultKind was given');
  if (!name) throw new Error('parseEntityRef: ' + ref + ' has no name');
  return { kind, namespace, name };
}
function pick(obj, path) {
  let current = obj;
  for (const key of String(path).replace(/\\[(\\w+)\\]/g, '.$1').split('.').filter(Boolean)) {
    if (current === null || typeof current !== 'object' || blocked.has(key) || !own(current, key)) return undefined;
    current = current[key];
  }
  return current;
}
function range(start, stop, step) {
  if (stop === undefined) { stop = start; start = 0; }
  step = step || 1;
  const count = Math.ceil((stop - start) / step);
  if (!(count <= ${MAX_RANGE_ITEMS})) throw new Error('range: more than ${MAX_RANGE_ITEMS} items');
  const out = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}
function makeEnv(variableStart, compat) {
  const env = new nunjucks.Environment(null, { autoescape: false, tags: { variableStart, variableEnd: '}}' } });
  env.addGlobal('range', range);
  env.addFilter('parseRepoUrl', parseRepoUrl);
  env.addFilter('projectSlug', (url) => { const r = parseRepoUrl(url); return (r.owner || r.organization || r.workspace) + '/' + r.repo; });
  env.addFilter('parseEntityRef', parseEntityRef);
  env.addFilter('pick', pick);
  if (compat) env.addFilter('jsonify', env.getFilter('dump'));
  return env;
}
const env = makeEnv('\${{', false);
// cookiecutter templates write {{ cookiecutter.x }}; fetch:template's cookiecutterCompat renders those.
const compatEnv = makeEnv('{{', true);
const parseOpts = (compat) => ({ autoescape: false, tags: { variableStart: compat ? '{{' : '\${{', variableEnd: '}}' } });
globalThis.__render = function (text, valuesJson, compat) {
  try {
    return (compat ? compatEnv : env).renderString(text, JSON.parse(valuesJson));
  } catch (error) {
    // Only a message string leaves the realm.
    throw String(error && error.message ? error.message : error).replace(/^\\(unknown path\\)\\s*/, '').replace(/^Error: /, '');
  }
};
globalThis.__check = function (text, compat) {
  try {
    nunjucks.parser.parse(text, {}, parseOpts(compat));
    return '';
  } catch (error) {
    return String(error && error.message ? error.message : error).replace(/^\\(unknown path\\)\\s*/, '');
  }
};
globalThis.__isSingle = function (text) {
  const parsed = nunjucks.parser.parse(text, {}, parseOpts(false));
  return parsed.children.length === 1 && !(parsed.children[0].children && parsed.children[0].children[0] instanceof nunjucks.nodes.TemplateData);
};
`;

let nunjucksSource: string | undefined;
function loadNunjucksSource(): string {
  nunjucksSource ??= readFileSync(createRequire(import.meta.url).resolve('nunjucks/browser/nunjucks.js'), 'utf8');
  return nunjucksSource;
}

interface Realm {
  context: vm.Context;
  render: vm.Script;
  check: vm.Script;
  isSingle: vm.Script;
}

function createRealm(): Realm {
  // A global without a prototype: no host Object.prototype (and so no host `constructor`) is reachable from it.
  const context = vm.createContext(Object.create(null) as object, { name: 'plinth-templating' });
  // plinth:allow-sast code-injection -- the shipped nunjucks source, evaluated inside the sandbox realm
  vm.runInContext(loadNunjucksSource(), context, { filename: 'nunjucks.js' });
  vm.runInContext(realmSetup, context, { filename: 'plinth-templating.js' });
  return {
    context,
    render: new vm.Script('__render(__text, __values, __compat)'),
    check: new vm.Script('__check(__text, __compat)'),
    isSingle: new vm.Script('__isSingle(__text)'),
  };
}

let realm: Realm | undefined;

function run(script: 'render' | 'check' | 'isSingle', globals: Record<string, string | boolean>): unknown {
  realm ??= createRealm();
  const ctx = realm.context as Record<string, unknown>;
  for (const [k, v] of Object.entries(globals)) ctx[`__${k}`] = v;
  try {
    return realm[script].runInContext(realm.context, { timeout: RENDER_TIMEOUT_MS });
  } catch (err) {
    if (typeof err === 'string') throw new ExpressionError(err);
    // A timeout or other failure of the realm itself: its message is ours, never template data.
    // (Errors from the realm are not `instanceof Error` here: each realm has its own Error.)
    const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : '';
    throw new ExpressionError(/timed out/.test(message) ? `rendering took longer than ${RENDER_TIMEOUT_MS} ms` : 'rendering failed');
  }
}

/** A template expression failed to parse or render; the message names what went wrong, not where (callers add the path). */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
}

/** JSON-compatible data: what crosses into the realm and what expressions produce. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Renders text with `${{ }}` (or, with `cookiecutterCompat`, `{{ }}`) against data; throws ExpressionError. */
export function renderText(text: string, values: unknown, options: { cookiecutterCompat?: boolean } = {}): string {
  return run('render', { text, values: JSON.stringify(values ?? {}), compat: options.cookiecutterCompat === true }) as string;
}

/** The parse problem of a template text, or undefined when it parses. */
export function expressionProblem(text: string, options: { cookiecutterCompat?: boolean } = {}): string | undefined {
  const problem = run('check', { text, compat: options.cookiecutterCompat === true }) as string;
  return problem === '' ? undefined : problem;
}

export function hasExpression(text: string): boolean {
  return text.includes('${{') || text.includes('{%');
}

/**
 * Backstage's rendering of a step input, `if` or output value: a string that is exactly one `${{ expr }}`
 * keeps the value's JSON type (objects, arrays, numbers, booleans); other strings render as text; an
 * empty result is undefined. Objects and arrays are rendered member by member.
 * (plugins/scaffolder-backend NunjucksWorkflowRunner `render`).
 */
export function renderValue(value: unknown, context: unknown): unknown {
  if (typeof value === 'string') return renderString(value, context);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, context));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a "__proto__" key stays a key and never sets a prototype.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, context)]));
  }
  return value;
}

function renderString(value: string, context: unknown): unknown {
  if (!hasExpression(value)) return value;
  const values = JSON.stringify(context ?? {});
  if (run('isSingle', { text: value }) === true) {
    const wrapped = value.replace(/\$\{\{([\s\S]+)\}\}/, '${{ ($1) | dump }}');
    const rendered = run('render', { text: wrapped, values, compat: false }) as string;
    if (rendered === '') return undefined;
    try {
      return JSON.parse(rendered) as unknown;
    } catch {
      // `dump` of undefined renders nothing or a bare word; fall through to text rendering.
    }
  }
  const rendered = run('render', { text: value, values, compat: false }) as string;
  return rendered === '' ? undefined : rendered;
}

/** Backstage's truthiness of a rendered `if`: an empty array is false, otherwise JavaScript truthiness. */
export function isTruthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

/** Every string in a JSON value, with its path, for load-time checks of expressions. */
export function stringsIn(value: unknown, path: string): { path: string; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsIn(item, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringsIn(v, path === '' ? k : `${path}.${k}`));
  return [];
}
