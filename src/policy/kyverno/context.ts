/**
 * The JSON context variables resolve against (pkg/engine/context), built the way the Kyverno CLI
 * builds it: `request.object` (or `request.oldObject` on DELETE), `request.operation`,
 * `request.namespace`, user info and `serviceAccountName` only when user info is given, and
 * `images` for Pods and Pod controllers. Values from a test harness are merged in as JSON merge
 * patches under dotted paths, so they can override fields of the object under test.
 */
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import type { RequestUserInfo } from './match.js';
import type { Operation } from './model.js';

export interface ContextInput {
  operation: Operation;
  object: JsonObject | null;
  oldObject: JsonObject | null;
  namespace: string;
  userInfo: RequestUserInfo | undefined;
  /** Only computed when some rule reads `images` (it walks every container). */
  includeImages: boolean;
}

export function buildContextData(input: ContextInput): JsonObject {
  const request: JsonObject = { operation: input.operation, namespace: input.namespace };
  if (input.operation === 'DELETE') {
    if (input.oldObject) request.oldObject = input.oldObject;
  } else {
    if (input.object) request.object = input.object;
    if (input.oldObject) request.oldObject = input.oldObject;
  }
  const data: JsonObject = { request };
  if (input.userInfo) {
    request.userInfo = { username: input.userInfo.username, groups: input.userInfo.groups };
    request.roles = input.userInfo.roles;
    request.clusterRoles = input.userInfo.clusterRoles;
    const [saNamespace, saName] = serviceAccountOf(input.userInfo.username);
    data.serviceAccountName = saName;
    data.serviceAccountNamespace = saNamespace;
  }
  if (input.includeImages) {
    const images = imagesOf(input.operation === 'DELETE' ? input.oldObject : input.object);
    if (images) data.images = images;
  }
  return data;
}

/** `system:serviceaccount:<ns>:<name>` → [ns, name]; anything else → ["", ""]. */
function serviceAccountOf(username: string): [string, string] {
  const prefix = 'system:serviceaccount:';
  const rest = username.length > prefix.length ? username.slice(prefix.length) : '';
  const parts = rest.split(':');
  return parts.length >= 2 ? [parts[0]!, parts[1]!] : ['', ''];
}

function podSpecOf(resource: JsonObject): JsonObject | undefined {
  const kind = resource.kind;
  const spec = resource.spec;
  if (!isJsonObject(spec)) return undefined;
  if (kind === 'Pod') return spec;
  if (kind === 'CronJob') {
    const jobTemplate = spec.jobTemplate;
    const jobSpec = isJsonObject(jobTemplate) ? jobTemplate.spec : undefined;
    const template = isJsonObject(jobSpec) ? jobSpec.template : undefined;
    return isJsonObject(template) && isJsonObject(template.spec) ? template.spec : undefined;
  }
  const template = spec.template;
  return isJsonObject(template) && isJsonObject(template.spec) ? template.spec : undefined;
}

/** `images.{containers,initContainers,ephemeralContainers}.<name>` as Kyverno's ImageInfo. */
function imagesOf(resource: JsonObject | null): JsonObject | undefined {
  if (!resource) return undefined;
  const spec = podSpecOf(resource);
  if (!spec) return undefined;
  const images: JsonObject = {};
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    const containers = spec[field];
    if (!Array.isArray(containers)) continue;
    const byName: JsonObject = {};
    for (const container of containers) {
      if (!isJsonObject(container) || typeof container.image !== 'string' || typeof container.name !== 'string') continue;
      byName[container.name] = imageInfo(container.image);
    }
    if (Object.keys(byName).length > 0) images[field] = byName;
  }
  return Object.keys(images).length > 0 ? images : undefined;
}

/** Kyverno's GetImageInfo: docker.io is added when the first path part is not a registry host. */
function imageInfo(image: string): JsonObject {
  const slash = image.indexOf('/');
  const first = slash >= 0 ? image.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  const registry = hasRegistry ? first : 'docker.io';
  let rest = hasRegistry ? image.slice(slash + 1) : image;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (tag === '' && digest === '') tag = 'latest';
  const path = rest;
  const name = path.slice(path.lastIndexOf('/') + 1);
  const reference = `${registry}/${path}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  const info: JsonObject = { registry, name, path, reference, referenceWithTag: `${registry}/${path}:${tag || 'latest'}` };
  if (tag) info.tag = tag;
  if (digest) info.digest = digest;
  return info;
}

/** Splits `a.b."c.d"` into `["a", "b", "c.d"]`. */
export function splitDottedPath(path: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of path) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** RFC 7386 JSON merge patch, copy-on-write: unchanged subtrees are shared with `target`. */
function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Merges `values` (dotted path → value, as in a Kyverno values file) into the context. */
export function mergeContextValues(data: JsonObject, values: Readonly<Record<string, JsonValue>>): JsonObject {
  let merged: JsonObject = data;
  for (const [path, value] of Object.entries(values)) {
    let patch: JsonValue = value;
    for (const part of splitDottedPath(path).reverse()) patch = { [part]: patch };
    merged = mergePatch(merged, patch) as JsonObject;
  }
  return merged;
}
