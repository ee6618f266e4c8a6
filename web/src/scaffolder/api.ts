import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Entity } from '../../../src/catalog/index.js';
import type { ParameterSchema, Task, TaskEvent, TaskStatus } from '../../../src/scaffolder/index.js';
import { http, isApiError } from '../app/http';
import { toFilterParams } from './picker-options';

export type { ParameterSchema, Task, TaskEvent, TaskStatus };

const scaffolderKey = ['scaffolder'] as const;
const base = '/api/scaffolder/v2';

export function isTaskFinished(status: TaskStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** Every Template entity of the catalog; the gallery filters them on the client (there are few). */
export function useTemplates() {
  return useQuery({
    queryKey: [...scaffolderKey, 'templates'],
    queryFn: async ({ signal }) =>
      (
        await http.get<{ items: Entity[] }>('/api/catalog/entities/by-query', {
          query: { filter: 'kind=template', limit: 500, orderField: 'metadata.name,asc', fields: 'kind,metadata,spec' },
          signal,
        })
      ).items,
  });
}

export function useParameterSchema(namespace: string, name: string) {
  return useQuery({
    queryKey: [...scaffolderKey, 'parameter-schema', namespace, name],
    queryFn: ({ signal }) =>
      http.get<ParameterSchema>(`${base}/templates/${encodeURIComponent(namespace)}/template/${encodeURIComponent(name)}/parameter-schema`, { signal }),
    // A form being filled in must not change under the user's hands.
    staleTime: Infinity,
  });
}

/** Which parameter pages show for the values so far (each page's `when`, rendered by the server's sandbox). */
export function useShownSteps(namespace: string, name: string) {
  return useMutation({
    mutationFn: async (values: Record<string, unknown>) =>
      (await http.post<{ shown: boolean[] }>(`${base}/templates/${encodeURIComponent(namespace)}/template/${encodeURIComponent(name)}/shown-steps`, { values })).shown,
  });
}

export function useCreateTask() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { templateRef: string; values: Record<string, unknown>; secrets?: Record<string, string> }) => http.post<{ id: string }>(`${base}/tasks`, input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [...scaffolderKey, 'tasks'] }),
  });
}

export function taskKey(id: string) {
  return [...scaffolderKey, 'task', id] as const;
}

export function useTask(id: string) {
  return useQuery({ queryKey: taskKey(id), queryFn: ({ signal }) => http.get<Task>(`${base}/tasks/${encodeURIComponent(id)}`, { signal }) });
}

export function useTasks(createdBy: string | undefined) {
  return useQuery({
    queryKey: [...scaffolderKey, 'tasks', createdBy ?? 'all'],
    queryFn: ({ signal }) => http.get<{ tasks: Task[]; totalTasks: number }>(`${base}/tasks`, { query: { createdBy, limit: 100 }, signal }),
  });
}

export function useCancelTask(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => http.post<{ status: string }>(`${base}/tasks/${encodeURIComponent(id)}/cancel`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: taskKey(id) }),
  });
}

export function useRetryTask(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => http.post<{ id: string }>(`${base}/tasks/${encodeURIComponent(id)}/retry`, {}),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: taskKey(id) }),
  });
}

/** The URL of a task's Server-Sent Events; the stream replays from the start, then follows. */
export function taskEventStreamUrl(id: string): string {
  return `${base}/tasks/${encodeURIComponent(id)}/eventstream`;
}

/**
 * Entities for a picker: those a Backstage `catalogFilter` selects (one object, or several ORed),
 * matching the typed text.
 */
export function usePickerEntities(catalogFilter: unknown, text: string) {
  const filters = toFilterParams(catalogFilter);
  return useQuery({
    queryKey: ['catalog', 'picker', filters, text],
    queryFn: async ({ signal }) => {
      const params = new URLSearchParams([['limit', '50'], ['orderField', 'metadata.name,asc'], ['fields', 'kind,metadata.name,metadata.namespace,metadata.title,spec.profile']]);
      for (const filter of filters) params.append('filter', filter);
      if (text.trim() !== '') {
        params.set('fullTextFilterTerm', text.trim());
        params.set('fullTextFilterFields', 'metadata.name,metadata.title');
      }
      return (await http.get<{ items: Entity[] }>(`/api/catalog/entities/by-query?${params.toString()}`, { signal })).items;
    },
    placeholderData: (previous) => previous,
  });
}


/**
 * Whether a repository exists on the hosted git (GET /api/git/repos/:owner/:name: 200 or 404), so the
 * RepoUrlPicker can say so before the task is refused with a 409. Undefined while unknown (not asked,
 * loading, or not readable by this user).
 */
export function useRepositoryExists(owner: string, name: string, enabled: boolean): boolean | undefined {
  const query = useQuery({
    queryKey: ['git', 'repository-exists', owner, name],
    queryFn: async ({ signal }) => {
      try {
        await http.get(`/api/git/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`, { signal });
        return true;
      } catch (error) {
        if (isApiError(error, 404)) return false;
        throw error;
      }
    },
    enabled,
    retry: false,
    staleTime: 10_000,
  });
  return enabled ? query.data : undefined;
}

/** The tags entities use (the catalog's `metadata.tags` facet), for EntityTagsPicker; `kinds` narrows to entities of those kinds. */
export function useEntityTags(kinds: readonly string[]) {
  return useQuery({
    queryKey: ['catalog', 'picker-tags', kinds],
    queryFn: async ({ signal }) => {
      const params = new URLSearchParams([['facet', 'metadata.tags']]);
      if (kinds.length > 0) params.append('filter', kinds.map((kind) => `kind=${kind}`).join(','));
      const { facets } = await http.get<{ facets: Record<string, { value: string; count: number }[]> }>(`/api/catalog/entity-facets?${params.toString()}`, { signal });
      return facets['metadata.tags'] ?? [];
    },
    staleTime: 60_000,
  });
}
