// The logic of the scaffolder's pickers, apart from their components so that it is unit-tested
// (test/journeys/scaffolder-fields.test.ts): RepoUrlPicker values and options, OwnedEntityPicker filters.

type JsonObject = Record<string, unknown>;

/**
 * The host of Plinth's hosted git in a RepoUrlPicker value, as publish:plinth reads it
 * (PLINTH_GIT_HOST in src/scaffolder/actions/publish.ts; the portal does not import server code).
 */
export const PLINTH_GIT_HOST = 'plinth';

/** A RepoUrlPicker value taken apart: `plinth?owner=team-a&repo=payments`. */
export interface RepoUrlParts {
  host: string;
  owner: string;
  repo: string;
}

/** Backstage's parseRepoPickerUrl: tolerant, a value it cannot read gives empty parts. */
export function parseRepoPickerUrl(value: unknown): RepoUrlParts {
  if (typeof value !== 'string' || value === '') return { host: '', owner: '', repo: '' };
  const q = value.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : value.slice(q + 1));
  return { host: q < 0 ? value : value.slice(0, q), owner: params.get('owner') ?? params.get('organization') ?? '', repo: params.get('repo') ?? '' };
}

/**
 * Backstage's serializeRepoPickerUrl: `host?owner=…&repo=…` (what the parseRepoUrl filter and
 * publish:plinth read), or undefined without a host.
 */
export function serializeRepoPickerUrl(parts: RepoUrlParts): string | undefined {
  if (parts.host === '') return undefined;
  const params = new URLSearchParams();
  if (parts.owner !== '') params.set('owner', parts.owner);
  if (parts.repo !== '') params.set('repo', parts.repo);
  return `${parts.host}?${params.toString()}`;
}

export interface RepoUrlPickerOptions {
  /** Hosts to choose from; Plinth's hosted git when the template names none. */
  allowedHosts: string[];
  /** Owners to choose from; empty: the owners the signed-in user can push to. */
  allowedOwners: string[];
  /** Repository names to choose from; empty: typed freely. */
  allowedRepos: string[];
}

const stringsOf = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : []);

/** RepoUrlPicker's `ui:options` (Backstage's RepoUrlPickerUiOptions; `allowedOrganizations` counts as owners). */
export function repoUrlPickerOptions(uiOptions: JsonObject): RepoUrlPickerOptions {
  const hosts = stringsOf(uiOptions.allowedHosts);
  return {
    allowedHosts: hosts.length > 0 ? hosts : [PLINTH_GIT_HOST],
    allowedOwners: [...new Set([...stringsOf(uiOptions.allowedOwners), ...stringsOf(uiOptions.allowedOrganizations)])],
    allowedRepos: stringsOf(uiOptions.allowedRepos),
  };
}

/**
 * The repository owners a user can push to, from their ownership refs (GET /api/auth/me): their teams
 * (`group:default/team-a` → `team-a`) and their username (a personal repository). The hosted git maps an
 * owner name to `group:default/<owner>` or the user, and lets exactly these create repositories.
 */
export function ownersFromOwnershipRefs(refs: readonly string[]): string[] {
  const groups: string[] = [];
  const users: string[] = [];
  for (const ref of refs) {
    const match = /^(group|user):default\/(.+)$/i.exec(ref);
    if (!match) continue;
    (match[1]!.toLowerCase() === 'group' ? groups : users).push(match[2]!.toLowerCase());
  }
  return [...new Set([...groups.sort(), ...users])];
}

// The hosted git's naming rules (src/git/model/names.ts ownerProblem / repositoryNameProblem), so the
// form says what the server would answer before anything is submitted.
const ownerPattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const repoPattern = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export function repoOwnerProblem(owner: string): string | undefined {
  if (!ownerPattern.test(owner) || owner.includes('..')) return `"${owner}" is not an owner name; use 1-63 of a-z, 0-9, ".", "_", "-", starting with a letter or digit`;
  return undefined;
}

export function repoNameProblem(name: string): string | undefined {
  if (!repoPattern.test(name) || name.includes('..')) return `"${name}" is not a repository name; use 1-100 of a-z, 0-9, ".", "_", "-", starting with a letter or digit`;
  if (name.endsWith('.git')) return `"${name}" must not end with ".git" (the clone URL adds it)`;
  return undefined;
}

/**
 * What is wrong with a RepoUrlPicker value before it is submitted, or undefined: Backstage's
 * repoPickerValidation (host and repo present) plus the allowed lists and the hosted git's naming rules.
 * An empty value is left to `required`.
 */
export function repoUrlProblem(value: unknown, options: RepoUrlPickerOptions): string | undefined {
  if (value === undefined || value === '') return undefined;
  const parts = parseRepoPickerUrl(value);
  if (parts.host === '' || parts.owner === '' || parts.repo === '') return 'choose an owner and a repository name';
  if (!options.allowedHosts.includes(parts.host)) return `host "${parts.host}" is not one of ${options.allowedHosts.join(', ')}`;
  if (options.allowedOwners.length > 0 && !options.allowedOwners.includes(parts.owner)) return `owner "${parts.owner}" is not one of ${options.allowedOwners.join(', ')}`;
  if (options.allowedRepos.length > 0 && !options.allowedRepos.includes(parts.repo)) return `repository "${parts.repo}" is not one of ${options.allowedRepos.join(', ')}`;
  if (parts.host === PLINTH_GIT_HOST) return repoOwnerProblem(parts.owner) ?? repoNameProblem(parts.repo);
  return undefined;
}

/**
 * OwnedEntityPicker's filter, as Backstage builds it (OwnedEntityPicker buildEntityPickerUISchema): each
 * `catalogFilter` (or one match-all) narrowed to the kinds of the older `allowedKinds` and to entities
 * owned by one of the user's ownership refs (`relations.ownedBy`). No refs: a filter nothing matches.
 */
export function ownedEntityFilter(uiOptions: JsonObject, ownershipRefs: readonly string[]): JsonObject[] {
  const filters = Array.isArray(uiOptions.catalogFilter) ? uiOptions.catalogFilter : uiOptions.catalogFilter !== undefined && uiOptions.catalogFilter !== null ? [uiOptions.catalogFilter] : [{}];
  const kinds = stringsOf(uiOptions.allowedKinds);
  // An empty list would drop the condition in the query (toFilterParams): match a ref that cannot exist instead.
  const owners = ownershipRefs.length > 0 ? [...ownershipRefs] : ['user:default/-'];
  return filters
    .filter((f): f is JsonObject => typeof f === 'object' && f !== null && !Array.isArray(f))
    .map((f) => ({ ...f, ...(kinds.length > 0 ? { kind: kinds } : {}), 'relations.ownedBy': owners }));
}

/** Backstage's catalogFilter (`{ kind: [Group, User] }`, or a list of such) as `filter=` values, as catalog-client sends them. */
export function toFilterParams(catalogFilter: unknown): string[] {
  const items = Array.isArray(catalogFilter) ? catalogFilter : catalogFilter === undefined || catalogFilter === null ? [] : [catalogFilter];
  return items.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const parts = Object.entries(item).flatMap(([key, value]) =>
      [value].flat().flatMap((v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? [`${key}=${String(v)}`] : typeof v === 'object' && v !== null && 'exists' in v ? [key] : [])),
    );
    return parts.length > 0 ? [parts.join(',')] : [];
  });
}

/**
 * MyGroupsPicker's filter: the Groups the signed-in user is a member of (Backstage queries
 * `relations.hasMember` with the user's entity ref).
 */
export function myGroupsFilter(userRef: string): JsonObject {
  return { kind: 'Group', 'relations.hasMember': userRef };
}

// The catalog's tag rule (@backstage/catalog-model's isValidTag), so EntityTagsPicker refuses what
// registering the entity would.
const tagPattern = /^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$/;

/** Why a tag would be refused by the catalog, or undefined. */
export function entityTagProblem(tag: string): string | undefined {
  if (tag.length < 1 || tag.length > 63 || !tagPattern.test(tag)) return `"${tag}" is not a tag; use 1-63 of a-z, 0-9, ":", "+", "#", words joined by "-"`;
  return undefined;
}
