import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AnalysisRecord, AnalysisResult, Environment, RolloutCommand, RolloutPhase, RolloutView } from '../../../src/delivery/index.js';
import type { MeView } from '../../../src/kernel/index.js';
import type { Release, ReleaseTrafficStats } from '../../../src/runtime/index.js';
import { http } from '../app/http';
import { mergeAnalyses } from './charts';
import { isTerminalPhase } from './rollout-view';

export type { AnalysisRecord, AnalysisResult, Environment, RolloutCommand, RolloutPhase, RolloutView };

/** A release as GET /api/runtime/releases serves it: the spec reduced to its artifact digest and replica count. */
export type ReleaseSummary = Omit<Release, 'spec'> & { artifactDigest: string; replicas: number };

/** GET /api/runtime/services/:svc/environments/:env/traffic. */
export interface TrafficView {
  split: { stable: string; canary?: string; canaryWeightPercent: number; sticky: boolean } | null;
  stats: (Omit<ReleaseTrafficStats, 'statusClasses'> & { statusClasses: Record<string, number> })[];
}

const deliveryKey = ['delivery'] as const;
const base = '/api/delivery';
/** How often a live rollout is re-read: the controller judges every few seconds at most, often faster. */
export const livePollMs = 1000;

export function useEnvironments() {
  return useQuery({ queryKey: [...deliveryKey, 'environments'], queryFn: async ({ signal }) => (await http.get<{ items: Environment[] }>(`${base}/environments`, { signal })).items });
}

export interface RolloutFilter {
  service?: string;
  environment?: string;
  active?: boolean;
  limit?: number;
}

/** Rollouts newest first; the active ones are re-read while shown, so weights and phases move on screen. */
export function useRollouts(filter: RolloutFilter) {
  return useQuery({
    queryKey: [...deliveryKey, 'rollouts', filter],
    queryFn: async ({ signal }) =>
      (
        await http.get<{ items: RolloutView[] }>(`${base}/rollouts`, {
          query: { service: filter.service, environment: filter.environment, active: filter.active === undefined ? undefined : String(filter.active), limit: filter.limit ?? 50 },
          signal,
        })
      ).items,
    refetchInterval: (query) => (query.state.data?.some((r) => !isTerminalPhase(r.phase)) || filter.active === true ? livePollMs * 2 : false),
  });
}

export function rolloutKey(id: string) {
  return [...deliveryKey, 'rollout', id] as const;
}

export function useRollout(id: string) {
  return useQuery({
    queryKey: rolloutKey(id),
    queryFn: ({ signal }) => http.get<RolloutView>(`${base}/rollouts/${encodeURIComponent(id)}`, { signal }),
    refetchInterval: (query) => (query.state.data !== undefined && isTerminalPhase(query.state.data.phase) ? false : livePollMs),
  });
}

/**
 * Every analysis of a rollout, oldest first, as the controller stored it: read whole once, then while
 * `live` only the ones after the last seq known. `live` is part of the key, so the history is read whole
 * again when the rollout ends (its last analysis is stored with the final status).
 */
export function useRolloutAnalyses(id: string, live: boolean) {
  const queryClient = useQueryClient();
  const queryKey = [...deliveryKey, 'analyses', id, live] as const;
  return useQuery({
    queryKey,
    queryFn: async ({ signal }) => {
      const known = queryClient.getQueryData<AnalysisRecord[]>(queryKey) ?? [];
      const after = known[known.length - 1]?.seq;
      const { items } = await http.get<{ items: AnalysisRecord[] }>(`${base}/rollouts/${encodeURIComponent(id)}/analyses`, { query: { after }, signal });
      return mergeAnalyses(known, items);
    },
    refetchInterval: live ? livePollMs : false,
    placeholderData: (previous) => previous,
  });
}

/** Releases running (or starting) in an environment: what serves there now. */
export function useReleases(environment: string) {
  return useQuery({
    queryKey: ['runtime', 'releases', environment],
    queryFn: async ({ signal }) => (await http.get<{ items: ReleaseSummary[] }>('/api/runtime/releases', { query: { environment }, signal })).items,
    refetchInterval: livePollMs * 5,
  });
}

/**
 * The gateway's split and per-release counters of a service in an environment, re-read while `live`;
 * `phase` is part of the key so the split is read again when a rollout ends (promoted, rolled back).
 */
export function useTraffic(service: string, environment: string, phase: RolloutPhase, live: boolean) {
  return useQuery({
    queryKey: ['runtime', 'traffic', service, environment, phase],
    queryFn: ({ signal }) => http.get<TrafficView>(`/api/runtime/services/${encodeURIComponent(service)}/environments/${encodeURIComponent(environment)}/traffic`, { signal }),
    refetchInterval: live ? livePollMs : false,
    placeholderData: (previous) => previous,
  });
}

/** promote, abort, pause, resume or approve: recorded at once, carried out by the controller's next pass. */
export function useRolloutCommand(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (command: RolloutCommand) => http.post<RolloutView>(`${base}/rollouts/${encodeURIComponent(id)}/${command}`),
    onSuccess: (view) => {
      queryClient.setQueryData(rolloutKey(id), view);
      return queryClient.invalidateQueries({ queryKey: deliveryKey });
    },
  });
}

/** Abort the rollout in progress, or go back to the release that was stable before the last promotion (a new rollout). */
export function useUndo(service: string, environment: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => http.post<RolloutView>(`${base}/services/${encodeURIComponent(service)}/environments/${encodeURIComponent(environment)}/undo`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: deliveryKey }),
  });
}

/**
 * Whether the user may steer a service's rollouts: the server's rule (a `write` permission on a service
 * owned by `ownerRef`, kernel decideAccess) read from /api/auth/me; the server still decides.
 */
export function canSteer(me: MeView, ownerRef: string | null): boolean {
  if (me.user.role === 'viewer' || !me.scopes.includes('write')) return false;
  return me.user.role === 'platform-admin' || ownerRef === null || me.ownershipRefs.includes(ownerRef.toLowerCase());
}
