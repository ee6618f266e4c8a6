/**
 * `match` / `exclude` (pkg/engine/utils/match.go). Within one filter every field given must hold;
 * within a list field any entry may. `match.any` needs one filter, `match.all` every filter;
 * `exclude.any` excludes when one filter selects, `exclude.all` only when all do. User filters in
 * `match` are ignored when the request carries no user info (the CLI default); in `exclude` they
 * then never select. No variables are substituted here.
 */
import type { LabelSelector, MatchResources, Operation, ResourceDescription, ResourceFilter, Subject } from './model.js';
import { containsWildcard, matchWildcard } from './wildcard.js';

/** Who sent the request, as Kyverno's RequestInfo. */
export interface RequestUserInfo {
  username: string;
  groups: string[];
  roles: string[];
  clusterRoles: string[];
}

/** The facts about one admission request that match/exclude look at. */
export interface MatchSubject {
  group: string;
  version: string;
  kind: string;
  subresource: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Labels of the resource's namespace (from the values file in the CLI). */
  namespaceLabels: Record<string, string>;
  operation: Operation;
  userInfo: RequestUserInfo | undefined;
}

interface KindSelector {
  group: string;
  version: string;
  kind: string;
  subresource: string;
}

const versionLike = /v\d((alpha|beta)\d)?/;

/** `Kind`, `Kind/sub`, `version/Kind`, `group/version/Kind[/sub]` (kubeutils.GetKindFromGVK). */
export function parseKindSelector(text: string): KindSelector {
  if (text === '*') return { group: '*', version: '*', kind: '*', subresource: '' };
  if (text === '*/*') return { group: '*', version: '*', kind: '*', subresource: '*' };
  const parts = text.split('/');
  const dotted = (kindText: string): [string, string] => {
    const at = kindText.indexOf('.');
    return at < 0 ? [kindText, ''] : [kindText.slice(0, at), kindText.slice(at + 1)];
  };
  let groupVersion: string | undefined;
  let kind: string;
  let subresource: string;
  if (parts.length === 1) {
    [kind, subresource] = dotted(parts[0]!);
  } else if (parts.length === 2) {
    if (versionLike.test(parts[0]!) || parts[0] === '*') {
      groupVersion = parts[0]!;
      [kind, subresource] = dotted(parts[1]!);
    } else {
      [kind, subresource] = [parts[0]!, parts[1]!];
    }
  } else if (parts.length === 3) {
    if (versionLike.test(parts[0]!) || parts[0] === '*') {
      groupVersion = parts[0]!;
      [kind, subresource] = [parts[1]!, parts[2]!];
    } else {
      groupVersion = `${parts[0]}/${parts[1]}`;
      [kind, subresource] = dotted(parts[2]!);
    }
  } else {
    groupVersion = `${parts[0]}/${parts[1]}`;
    [kind, subresource] = [parts[2]!, parts.slice(3).join('/')];
  }
  if (groupVersion === undefined) return { group: '*', version: '*', kind, subresource };
  const slash = groupVersion.indexOf('/');
  if (slash < 0) return { group: groupVersion === '*' ? '*' : '', version: groupVersion, kind, subresource };
  return { group: groupVersion.slice(0, slash), version: groupVersion.slice(slash + 1), kind, subresource };
}

function matchesKind(selectors: readonly KindSelector[], subject: MatchSubject): boolean {
  return selectors.some((s) => {
    if (!(matchWildcard(s.group, subject.group) && matchWildcard(s.version, subject.version) && matchWildcard(s.kind, subject.kind))) return false;
    if (s.subresource === subject.subresource || matchWildcard(s.subresource, subject.subresource)) return true;
    // A plain `Pod` also selects the ephemeralcontainers subresource.
    return s.kind === 'Pod' && s.subresource === '' && subject.kind === 'Pod' && subject.subresource === 'ephemeralcontainers';
  });
}

/** Label selector semantics, with Kyverno's wildcard expansion of matchLabels (wildcards.ReplaceInSelector). */
export function matchesLabelSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    let effectiveKey = key;
    let effectiveValue = value;
    if (containsWildcard(key) || containsWildcard(value)) {
      const found = Object.entries(labels).find(([k, v]) => matchWildcard(key, k) && matchWildcard(value, v));
      if (found) [effectiveKey, effectiveValue] = found;
      else [effectiveKey, effectiveValue] = [key.replace(/[*?]/g, '0'), value.replace(/[*?]/g, '0')];
    }
    if (labels[effectiveKey] !== effectiveValue) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(labels[expression.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expression.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

function matchesSubjects(subjects: readonly Subject[], user: RequestUserInfo): boolean {
  return subjects.some((subject) => {
    switch (subject.kind) {
      case 'ServiceAccount':
        return user.username === `system:serviceaccount:${subject.namespace ?? ''}:${subject.name}`;
      case 'User':
        return matchWildcard(subject.name, user.username);
      case 'Group':
        return user.groups.some((group) => matchWildcard(subject.name, group));
    }
  });
}

/** One filter compiled: kinds parsed, everything else kept as given. */
interface CompiledFilter {
  description: ResourceDescription;
  kinds: KindSelector[];
  roles: string[];
  clusterRoles: string[];
  subjects: Subject[];
}

function isEmptyDescription(d: ResourceDescription): boolean {
  return !(d.kinds?.length || d.name || d.names?.length || d.namespaces?.length || (d.annotations && Object.keys(d.annotations).length) || d.selector || d.namespaceSelector || d.operations?.length);
}

function compileFilter(filter: ResourceFilter): CompiledFilter {
  const description = filter.resources ?? {};
  return {
    description,
    kinds: (description.kinds ?? []).map(parseKindSelector),
    roles: filter.roles ?? [],
    clusterRoles: filter.clusterRoles ?? [],
    subjects: filter.subjects ?? [],
  };
}

/** Whether one filter selects the subject (`doesResourceMatchConditionBlock` with no errors). */
function filterSelects(filter: CompiledFilter, subject: MatchSubject, useUserFilters: boolean): boolean {
  const d = filter.description;
  if (filter.kinds.length > 0 && !matchesKind(filter.kinds, subject)) return false;
  if (d.name && !matchWildcard(d.name, subject.name)) return false;
  if (d.names?.length && !d.names.some((name) => matchWildcard(name, subject.name))) return false;
  if (d.namespaces?.length) {
    const namespace = subject.kind === 'Namespace' ? subject.name : subject.namespace;
    if (!d.namespaces.some((pattern) => matchWildcard(pattern, namespace))) return false;
  }
  if (d.annotations && Object.keys(d.annotations).length > 0) {
    const annotations = Object.entries(subject.annotations);
    const all = Object.entries(d.annotations).every(([k, v]) => annotations.some(([k1, v1]) => matchWildcard(k, k1) && matchWildcard(v, v1)));
    if (!all) return false;
  }
  if (d.selector && !matchesLabelSelector(d.selector, subject.labels)) return false;
  if (d.namespaceSelector) {
    if (subject.kind === 'Namespace') return false;
    if (!matchesLabelSelector(d.namespaceSelector, subject.namespaceLabels)) return false;
  }
  if (d.operations?.length && !d.operations.includes(subject.operation)) return false;
  if (!useUserFilters) return true;
  const user = subject.userInfo ?? { username: '', groups: [], roles: [], clusterRoles: [] };
  if (filter.roles.length > 0 && !filter.roles.some((role) => user.roles.includes(role))) return false;
  if (filter.clusterRoles.length > 0 && !filter.clusterRoles.some((role) => user.clusterRoles.includes(role))) return false;
  if (filter.subjects.length > 0 && !matchesSubjects(filter.subjects, user)) return false;
  return true;
}

function hasUserFilters(filter: CompiledFilter): boolean {
  return filter.roles.length > 0 || filter.clusterRoles.length > 0 || filter.subjects.length > 0;
}

export interface CompiledMatch {
  mode: 'any' | 'all';
  filters: CompiledFilter[];
}

/** The legacy flat form (`match.resources` + user fields) is one filter in `any` mode. */
export function compileMatch(match: MatchResources): CompiledMatch {
  if (match.any && match.any.length > 0) return { mode: 'any', filters: match.any.map(compileFilter) };
  if (match.all && match.all.length > 0) return { mode: 'all', filters: match.all.map(compileFilter) };
  return { mode: 'any', filters: [compileFilter({ resources: match.resources, roles: match.roles, clusterRoles: match.clusterRoles, subjects: match.subjects })] };
}

/** Every kind a match names (for autogen eligibility). */
export function kindsOf(match: MatchResources | null | undefined): string[] {
  if (!match) return [];
  return [...(match.resources?.kinds ?? []), ...(match.any ?? []).flatMap((f) => f.resources?.kinds ?? []), ...(match.all ?? []).flatMap((f) => f.resources?.kinds ?? [])];
}

function matchFilterSelects(filter: CompiledFilter, subject: MatchSubject): boolean {
  // An empty filter is an error in Kyverno ("match cannot be empty"): it selects nothing.
  const ignoreUsers = subject.userInfo === undefined;
  if (isEmptyDescription(filter.description) && (ignoreUsers || !hasUserFilters(filter))) return false;
  return filterSelects(filter, subject, !ignoreUsers);
}

function excludeFilterSelects(filter: CompiledFilter, subject: MatchSubject): boolean {
  if (isEmptyDescription(filter.description) && !hasUserFilters(filter)) return false;
  return filterSelects(filter, subject, true);
}

/** Whether the rule applies: `match` selects the subject and `exclude` does not. */
export function ruleSelects(match: CompiledMatch, exclude: CompiledMatch | undefined, subject: MatchSubject): boolean {
  const matched = match.mode === 'any' ? match.filters.some((f) => matchFilterSelects(f, subject)) : match.filters.every((f) => matchFilterSelects(f, subject));
  if (!matched) return false;
  if (!exclude) return true;
  const excluded = exclude.mode === 'any' ? exclude.filters.some((f) => excludeFilterSelects(f, subject)) : exclude.filters.every((f) => excludeFilterSelects(f, subject));
  return !excluded;
}
