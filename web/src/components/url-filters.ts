import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';

/** `<owner>/<name>` of a hosted repository (owner: 1-63 characters, name: 1-100), as the git layer names them. */
export const repositoryPattern = /^[a-z0-9][a-z0-9._-]{0,62}\/[a-z0-9][a-z0-9._-]{0,99}$/;

/**
 * List filters kept in the URL, so a filtered list can be shared and survives a reload: the current
 * values (empty when absent) and `update`, which replaces the given ones and keeps the others.
 */
export function useUrlFilters<K extends string>(keys: readonly K[]): { values: Record<K, string>; update: (next: Partial<Record<K, string>>) => void } {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ''])) as Record<K, string>;
  const update = (next: Partial<Record<K, string>>) => {
    const search = new URLSearchParams();
    for (const key of keys) {
      const value = next[key] ?? values[key];
      if (value !== '') search.set(key, value);
    }
    setParams(search, { replace: true });
  };
  return { values, update };
}

/** A repository typed into a filter field and applied on submit: `<owner>/<name>`, or empty for any; `problem` otherwise. */
export function useRepositoryField(current: string, apply: (value: string) => void, problem: string) {
  const [draft, setDraft] = useState(current);
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = draft.trim().toLowerCase();
    if (value !== '' && !repositoryPattern.test(value)) {
      setError(problem);
      return;
    }
    setError(undefined);
    apply(value);
  };
  return { draft, setDraft, error, submit };
}
