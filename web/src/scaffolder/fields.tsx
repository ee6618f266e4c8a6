import { useState } from 'react';
import Autocomplete from '@mui/material/Autocomplete';
import TextField from '@mui/material/TextField';
import type { FieldProps, RegistryFieldsType } from '@rjsf/utils';
import type { Entity } from '../../../src/catalog/index.js';
import { useDebouncedValue } from '../components/debounce';
import { entityTitle } from '../components/entity-refs';
import { usePickerEntities } from './api';

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

/**
 * An entity ref chosen from the catalog (Backstage's EntityPicker): suggestions from the entities the
 * `catalogFilter` selects, matching what is typed; a typed ref is kept as typed unless
 * `allowArbitraryValues: false`.
 */
function EntityRefField(props: FieldProps & { defaultFilter: unknown }) {
  const { onChange, fieldPathId, schema, required, disabled, readonly, rawErrors, autofocus, defaultFilter, name } = props;
  const formData = typeof props.formData === 'string' ? props.formData : undefined;
  const options = optionsOf(props.uiSchema);
  const allowArbitrary = options.allowArbitraryValues !== false;
  const [text, setText] = useState('');
  const term = useDebouncedValue(text, 200);
  const entities = usePickerEntities(options.catalogFilter ?? defaultFilter, searchTerm(term));
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

/** Backstage's OwnerPicker: a Group or User by default, or what `ui:options.catalogFilter` selects. */
export function OwnerPicker(props: FieldProps) {
  return <EntityRefField {...props} defaultFilter={{ kind: ['Group', 'User'] }} />;
}

/** Backstage's EntityPicker: any entity, or what `ui:options.catalogFilter` selects. */
export function EntityPicker(props: FieldProps) {
  return <EntityRefField {...props} defaultFilter={undefined} />;
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
export const scaffolderFields: RegistryFieldsType = { OwnerPicker, EntityPicker, EntityNamePicker };
