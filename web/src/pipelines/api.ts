import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { MeView } from '../../../src/kernel/index.js';
import type { BuildArtifact, LogLine, RecordedTest, Run, RunDetail, RunStatus, StageStatus, StepStatus } from '../../../src/pipelines/index.js';
import { http } from '../app/http';
import { isTerminalRunStatus } from './run-view';

export type { BuildArtifact, LogLine, RecordedTest, Run, RunDetail, RunStatus, StageStatus, StepStatus };

const pipelinesKey = ['pipelines'] as const;
const base = '/api/pipelines';

export interface RunFilter {
  repository?: string;
  status?: RunStatus;
}

/** Runs newest first, a page at a time: the API's `nextCursor` is the id of the last run of a page. */
export function useRuns(filter: RunFilter) {
  return useInfiniteQuery({
    queryKey: [...pipelinesKey, 'runs', filter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      http.get<{ items: Run[]; nextCursor: string | null }>(`${base}/runs`, { query: { repository: filter.repository, status: filter.status, limit: 25, cursor: pageParam }, signal }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // New pushes start runs and running ones change status: the list looks again every few seconds
    // (faster while one of its runs is not over).
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.items.some((r) => !isTerminalRunStatus(r.status))) ? 2000 : 5000),
  });
}

export function runKey(id: string) {
  return [...pipelinesKey, 'run', id] as const;
}

/** One run with its stages, steps and tests; re-read every second while it is not over. */
export function useRun(id: string) {
  return useQuery({
    queryKey: runKey(id),
    queryFn: ({ signal }) => http.get<RunDetail>(`${base}/runs/${encodeURIComponent(id)}`, { signal }),
    refetchInterval: (query) => (query.state.data !== undefined && isTerminalRunStatus(query.state.data.status) ? false : 1000),
  });
}

export function useArtifact(digest: string) {
  return useQuery({
    queryKey: [...pipelinesKey, 'artifact', digest],
    queryFn: ({ signal }) => http.get<BuildArtifact>(`${base}/artifacts/${encodeURIComponent(digest)}`, { signal }),
    staleTime: Infinity,
  });
}

/** Where the browser downloads an artifact's bytes (the session cookie authenticates the GET). */
export function artifactDownloadUrl(digest: string): string {
  return `${base}/artifacts/${encodeURIComponent(digest)}/content`;
}

/** The run's log lines as Server-Sent Events: stored lines first, then live ones, then an `end` event. */
export function runLogStreamUrl(id: string): string {
  return `${base}/runs/${encodeURIComponent(id)}/logs/stream`;
}

export function useRerun(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => http.post<Run>(`${base}/runs/${encodeURIComponent(id)}/rerun`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [...pipelinesKey, 'runs'] }),
  });
}

export function useCancelRun(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => http.post<Run>(`${base}/runs/${encodeURIComponent(id)}/cancel`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: pipelinesKey }),
  });
}

/**
 * Whether the user may rerun or cancel a run: the server's rule (kernel decideAccess for a `write`
 * permission on a resource owned by `ownerRef`) read from /api/auth/me, so the buttons show only to
 * those the server will let through. The server still decides; its refusal is shown if it differs.
 */
export function canOperateRun(me: MeView, ownerRef: string): boolean {
  if (me.user.role === 'viewer' || !me.scopes.includes('write')) return false;
  return me.user.role === 'platform-admin' || me.ownershipRefs.includes(ownerRef.toLowerCase());
}
