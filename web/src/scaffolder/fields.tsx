import { useEffect, useState } from 'react';
import Autocomplete from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { FieldProps, RegistryFieldsType } from '@rjsf/utils';
import type { Entity } from '../../../src/catalog/index.js';
import { useMe } from '../app/auth';
import { useDebouncedValue } from '../components/debounce';
import { entityTitle } from '../components/entity-refs';
import { useEntityTags, usePickerEntities, useRepositoryExists } from './api';
import {
  entityTagProblem,
  myGroupsFilter,
  ownedEntityFilter,
  ownersFromOwnershipRefs,
  parseRepoPickerUrl,
  PLINTH_GIT_HOST,
  repoNameProblem,
  repoOwnerProblem,
  repoUrlPickerOptions,
  serializeRepoPickerUrl,
  type RepoUrlParts,
} from './picker-options';

/**
 * What the form gives its fields through rjsf's formContext: a place for problems only a server call
 * can tell (a repository that already exists), which the page's validation adds on Next.
 */
export interface ScaffolderFormContext {
  reportProblem(field: string, problem: string | undefined): void;
  /** Keeps a value out of the parameters: it is sent as a task secret (`${{ secrets.<name> }}`). */
  setSecret(name: string, value: string | undefined): void;
  getSecret(name: string): string | undefined;
}

function reporterOf(props: FieldProps): ScaffolderFormContext['reportProblem'] {
  const context = props.registry.formContext as Partial<ScaffolderFormContext> | undefined;
  return typeof context?.reportProblem === 'function' ? context.reportProblem : () => undefined;
}

/**
 * Backstage's Secret field: what is typed goes to the task's secrets under the field's name, never into
 * the parameters (stored with the task); the parameter holds as many "*" as characters were typed, so
 * `required` and `minLength` still apply.
 */
export function SecretField(props: FieldProps) {
  const { onChange, fieldPathId, schema, required, disabled, readonly, rawErrors, autofocus, name } = props;
  const context = props.registry.formContext as Partial<ScaffolderFormContext> | undefined;
  // A page is mounted afresh when the user comes back to it: the secret typed before is still there.
  const [value, setValue] = useState(() => context?.getSecret?.(name) ?? '');
  const label = (typeof props.uiSchema?.['ui:title'] === 'string' ? props.uiSchema['ui:title'] : undefined) ?? schema.title ?? name;
  return (
    <TextField
      id={fieldPathId.$id}
      type="password"
      fullWidth
      autoComplete="off"
      label={label}
      required={required}
      disabled={disabled || readonly}
      autoFocus={autofocus}
      value={value}
      error={(rawErrors ?? []).length > 0}
      helperText={schema.description}
      onChange={(event) => {
        const typed = event.target.value;
        setValue(typed);
        context?.setSecret?.(name, typed === '' ? undefined : typed);
        onChange(typed === '' ? undefined : '*'.repeat(typed.length), fieldPathId.path);
      }}
    />
  );
}

/** `group:default/team-a` as Backstage's stringifyEntityRef writes it (kind lowercased, the rest as is). */
function refOf(entity: Entity): string {
  return `${entity.kind.toLowerCase()}:${entity.metadata.namespace ?? 'default'}/${entity.metadata.name}`;
}

function optionsOf(uiSchema: FieldProps['uiSchema']): Record<string, unknown> {
  const options = uiSchema?.['ui:options'];
  return typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {};
}

/** What to search for from typed text: the name part of a ref (`group:default/team` → `team`). */
function searchTerm(text: string): string {
  return text.slice(Math.max(text.lastIndexOf(':'), text.lastIndexOf('/')) + 1);
}

/** The filter a picker's `ui:options` ask for: `catalogFilter`, or the older `allowedKinds`, or undefined. */
function catalogFilterOf(options: Record<string, unknown>): unknown {
  if (options.catalogFilter !== undefined) return options.catalogFilter;
  return Array.isArray(options.allowedKinds) ? { kind: options.allowedKinds } : undefined;
}

/**
 * An entity ref chosen from the catalog (Backstage's EntityPicker): suggestions from the entities the
 * filter selects, matching what is typed; a typed ref is kept as typed unless
 * `allowArbitraryValues: false`.
 */
function EntityRefField(props: FieldProps & { filter: unknown }) {
  const { onChange, fieldPathId, schema, required, disabled, readonly, rawErrors, autofocus, filter, name } = props;
  const formData = typeof props.formData === 'string' ? props.formData : undefined;
  const options = optionsOf(props.uiSchema);
  const allowArbitrary = options.allowArbitraryValues !== false;
  const [text, setText] = useState('');
  const term = useDebouncedValue(text, 200);
  const entities = usePickerEntities(filter, searchTerm(term));
  const byRef = new Map((entities.data ?? []).map((e) => [refOf(e), e]));
  const label = (typeof props.uiSchema?.['ui:title'] === 'string' ? props.uiSchema['ui:title'] : undefined) ?? schema.title ?? name;
  const set = (value: string | null) => onChange(value === null || value === '' ? undefined : value, fieldPathId.path);
  const errors = rawErrors ?? [];
  return (
    <Autocomplete<string, false, false, boolean>
      id={fieldPathId.$id}
      freeSolo={allowArbitrary}
      autoSelect={allowArbitrary}
      options={[...byRef.keys()]}
      value={formData ?? null}
      loading={entities.isFetching}
      disabled={disabled || readonly}
      filterOptions={(all) => all}
      getOptionLabel={(ref) => ref}
      renderOption={({ key, ...optionProps }, ref) => {
        const entity = byRef.get(ref);
        return (
          <li key={key} {...optionProps}>
            {entity !== undefined && entityTitle(entity) !== entity.metadata.name ? `${entityTitle(entity)} (${ref})` : ref}
          </li>
        );
      }}
      onChange={(_event, value) => set(value)}
      onInputChange={(_event, value, reason) => {
        if (reason !== 'input') return;
        setText(value);
        if (allowArbitrary) set(value);
      }}
      renderInput={(params) => (
        <TextField
          {...params}
          label={label}
          required={required}
          autoFocus={autofocus}
          error={errors.length > 0}
          helperText={schema.description}
        />
      )}
    />
  );
}

/** Backstage's OwnerPicker: a Group or User by default, or what `ui:options.catalogFilter` (or `allowedKinds`) selects. */
export function OwnerPicker(props: FieldProps) {
  return <EntityRefField {...props} filter={catalogFilterOf(optionsOf(props.uiSchema)) ?? { kind: ['Group', 'User'] }} />;
}

/** Backstage's EntityPicker: any entity, or what `ui:options.catalogFilter` (or `allowedKinds`) selects. */
export function EntityPicker(props: FieldProps) {
  return <EntityRefField {...props} filter={catalogFilterOf(optionsOf(props.uiSchema))} />;
}

/**
 * Backstage's OwnedEntityPicker: an EntityPicker limited to entities owned by the signed-in user or
 * one of their groups (their ownership refs), within `catalogFilter` / `allowedKinds`.
 */
export function OwnedEntityPicker(props: FieldProps) {
  const me = useMe();
  return <EntityRefField {...props} filter={ownedEntityFilter(optionsOf(props.uiSchema), me.ownershipRefs)} />;
}

/** Backstage's MyGroupsPicker: one of the Groups the signed-in user is a member of. */
export function MyGroupsPicker(props: FieldProps) {
  const me = useMe();
  const options = optionsOf(props.uiSchema);
  const uiSchema = { ...props.uiSchema, 'ui:options': { ...options, allowArbitraryValues: false } };
  return <EntityRefField {...props} uiSchema={uiSchema} filter={myGroupsFilter(`user:default/${me.user.username.toLowerCase()}`)} />;
}

const stringsIn = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Backstage's MultiEntityPicker: several entity refs from the catalog (`catalogFilter`), kept as an array. */
export function MultiEntityPicker(props: FieldProps) {
  const { onChange, fieldPathId, schema, required, disabled, readonly, rawErrors, name } = props;
  const options = optionsOf(props.uiSchema);
  const allowArbitrary = options.allowArbitraryValues !== false;
  const [text, setText] = useState('');
  const term = useDebouncedValue(text, 200);
  const entities = usePickerEntities(catalogFilterOf(options), searchTerm(term));
  const label = (typeof props.uiSchema?.['ui:title'] === 'string' ? props.uiSchema['ui:title'] : undefined) ?? schema.title ?? name;
  return (
    <Autocomplete<string, true, false, boolean>
      id={fieldPathId.$id}
      multiple
      freeSolo={allowArbitrary}
      options={(entities.data ?? []).map(refOf)}
      value={stringsIn(props.formData)}
      loading={entities.isFetching}
      disabled={disabled || readonly}
      filterOptions={(all) => all}
      onChange={(_event, value) => onChange(value.length > 0 ? value : undefined, fieldPathId.path)}
      onInputChange={(_event, value, reason) => reason === 'input' && setText(value)}
      renderInput={(params) => <TextField {...params} label={label} required={required && stringsIn(props.formData).length === 0} error={(rawErrors ?? []).length > 0} helperText={schema.description} />}
    />
  );
}

/**
 * Backstage's EntityTagsPicker: tags for the new entity, suggested from those the catalog's entities
 * use (of `ui:options.kinds`), new ones typed freely; each checked by the catalog's tag rule.
 */
export function EntityTagsPicker(props: FieldProps) {
  const { onChange, fieldPathId, schema, required, disabled, readonly, rawErrors, name } = props;
  const options = optionsOf(props.uiSchema);
  const kinds = Array.isArray(options.kinds) ? options.kinds.filter((k): k is string => typeof k === 'string') : [];
  const tags = useEntityTags(kinds);
  const value = stringsIn(props.formData);
  const problems = value.map(entityTagProblem).filter((p): p is string => p !== undefined);
  const label = (typeof props.uiSchema?.['ui:title'] === 'string' ? props.uiSchema['ui:title'] : undefined) ?? schema.title ?? name;
  const helper = typeof options.helperText === 'string' ? options.helperText : schema.description;
  return (
    <Autocomplete<string, true, false, true>
      id={fieldPathId.$id}
      multiple
      freeSolo
      options={(tags.data ?? []).map((t) => t.value)}
      renderOption={({ key, ...optionProps }, tag) => (
        <li key={key} {...optionProps}>
          {options.showCounts === true ? `${tag} (${tags.data?.find((t) => t.value === tag)?.count ?? 0})` : tag}
        </li>
      )}
      value={value}
      loading={tags.isFetching}
      disabled={disabled || readonly}
      // Tags are lowercase in the catalog: typed ones are lowercased, as Backstage's picker does.
      onChange={(_event, next) => onChange(next.length > 0 ? [...new Set(next.map((t) => t.trim().toLowerCase()))] : undefined, fieldPathId.path)}
      renderInput={(params) => <TextField {...params} label={label} required={required && value.length === 0} error={(rawErrors ?? []).length > 0 || problems.length > 0} helperText={problems[0] ?? helper} />}
    />
  );
}

/**
 * Backstage's RepoUrlPicker for Plinth's hosted git: host (from `allowedHosts`, Plinth's by default),
 * owner (from `allowedOwners`, else the teams and username the user can push to) and repository name
 * (from `allowedRepos`, else typed), kept as `host?owner=…&repo=…` for parseRepoUrl and publish:plinth.
 * A repository that already exists is reported before the task would be refused.
 */
export function RepoUrlPicker(props: FieldProps) {
  const { onChange, fieldPathId, schema, required, disabled, readonly, rawErrors, name } = props;
  const options = repoUrlPickerOptions(optionsOf(props.uiSchema));
  const me = useMe();
  const owners = options.allowedOwners.length > 0 ? options.allowedOwners : ownersFromOwnershipRefs(me.ownershipRefs);
  const parts = parseRepoPickerUrl(props.formData);
  // Backstage starts with the first allowed host, owner and repository; one owner needs no choosing either.
  const initial: RepoUrlParts = {
    host: parts.host !== '' ? parts.host : options.allowedHosts[0]!,
    owner: parts.owner !== '' ? parts.owner : options.allowedOwners.length > 0 || owners.length === 1 ? (owners[0] ?? '') : '',
    repo: parts.repo !== '' ? parts.repo : (options.allowedRepos[0] ?? ''),
  };
  const value = serializeRepoPickerUrl(initial);
  useEffect(() => {
    if (value !== props.formData) onChange(value, fieldPathId.path);
    // Only when the derived value differs: rjsf's onChange identity changes every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, props.formData]);
  const set = (change: Partial<RepoUrlParts>) => onChange(serializeRepoPickerUrl({ ...initial, ...change }), fieldPathId.path);

  const debouncedRepo = useDebouncedValue(initial.repo, 300);
  const checkable = initial.host === PLINTH_GIT_HOST && repoOwnerProblem(initial.owner) === undefined && repoNameProblem(debouncedRepo) === undefined;
  const exists = useRepositoryExists(initial.owner, debouncedRepo, checkable);
  const existsProblem = exists === true && debouncedRepo === initial.repo ? `${initial.owner}/${initial.repo} already exists on Plinth's hosted git; choose another name` : undefined;
  const report = reporterOf(props);
  useEffect(() => report(name, existsProblem), [report, name, existsProblem]);

  const title = (typeof props.uiSchema?.['ui:title'] === 'string' ? props.uiSchema['ui:title'] : undefined) ?? schema.title ?? name;
  const hasErrors = (rawErrors ?? []).length > 0;
  const locked = disabled || readonly;
  return (
    <Box component="fieldset" aria-label={title} id={fieldPathId.$id} sx={{ border: 0, p: 0, m: 0, display: 'grid', gap: 2 }}>
      <Typography component="legend" variant="subtitle2" sx={{ mb: 1 }}>
        {title}
        {required ? ' *' : ''}
      </Typography>
      <TextField select label="Host" value={initial.host} disabled={locked || options.allowedHosts.length === 1} onChange={(e) => set({ host: e.target.value })} helperText="Where the repository is created">
        {options.allowedHosts.map((host) => (
          <MenuItem key={host} value={host}>
            {host === PLINTH_GIT_HOST ? "Plinth's hosted git" : host}
          </MenuItem>
        ))}
      </TextField>
      {owners.length > 0 ? (
        <TextField select label="Owner" value={initial.owner} required disabled={locked || owners.length === 1} error={hasErrors && initial.owner === ''} onChange={(e) => set({ owner: e.target.value })} helperText="The team (or you) the repository belongs to">
          {owners.map((owner) => (
            <MenuItem key={owner} value={owner}>
              {owner}
            </MenuItem>
          ))}
        </TextField>
      ) : (
        <TextField label="Owner" value={initial.owner} required disabled={locked} error={hasErrors && initial.owner === ''} onChange={(e) => set({ owner: e.target.value.trim() })} helperText="A team name, or your username" />
      )}
      {options.allowedRepos.length > 0 ? (
        <TextField select label="Repository" value={initial.repo} required disabled={locked || options.allowedRepos.length === 1} onChange={(e) => set({ repo: e.target.value })} helperText="The name of the repository">
          {options.allowedRepos.map((repo) => (
            <MenuItem key={repo} value={repo}>
              {repo}
            </MenuItem>
          ))}
        </TextField>
      ) : (
        <TextField
          label="Repository"
          value={initial.repo}
          required
          disabled={locked}
          error={hasErrors || existsProblem !== undefined}
          onChange={(e) => set({ repo: e.target.value.trim() })}
          helperText={existsProblem ?? schema.description ?? 'The name of the repository'}
        />
      )}
    </Box>
  );
}

/** Backstage's EntityNamePicker: a text field for an entity name, checked by {@link entityNameProblem}. */
export function EntityNamePicker(props: FieldProps) {
  const { onChange, fieldPathId, schema, required, disabled, readonly, rawErrors, autofocus, name } = props;
  const formData = typeof props.formData === 'string' ? props.formData : undefined;
  const label = (typeof props.uiSchema?.['ui:title'] === 'string' ? props.uiSchema['ui:title'] : undefined) ?? schema.title ?? name;
  return (
    <TextField
      id={fieldPathId.$id}
      fullWidth
      label={label}
      required={required}
      disabled={disabled || readonly}
      autoFocus={autofocus}
      value={formData ?? ''}
      error={(rawErrors ?? []).length > 0}
      helperText={schema.description}
      onChange={(event) => onChange(event.target.value === '' ? undefined : event.target.value, fieldPathId.path)}
    />
  );
}

const entityNamePattern = /^([A-Za-z0-9][-_.]?)*[A-Za-z0-9]$/;

/** The catalog's rule for `metadata.name` (Backstage's KubernetesValidatorFunctions.isValidObjectName). */
export function entityNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (value.length > 63 || !entityNamePattern.test(value)) return 'must start and end with a letter or digit, use only letters, digits, "-", "_" and ".", and be at most 63 characters';
  return undefined;
}

/** The custom fields templates name in `ui:field`. */
export const scaffolderFields: RegistryFieldsType = { OwnerPicker, EntityPicker, OwnedEntityPicker, MyGroupsPicker, MultiEntityPicker, EntityNamePicker, EntityTagsPicker, RepoUrlPicker, Secret: SecretField };
