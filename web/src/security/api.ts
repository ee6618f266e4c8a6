import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FindingDetail, FindingSeverity, FindingStatus, Overview, TrackedFinding } from '../../../src/security/index.js';
import { http } from '../app/http';

export type { FindingDetail, FindingSeverity, FindingStatus, Overview, TrackedFinding };

const findingsKey = ['security', 'findings'] as const;
const base = '/api/security/findings';

/** Where an artifact's supply-chain documents download from (GET, with the session cookie). */
export const supplyChainUrls = (digest: string) => {
  const artifact = `/api/security/artifacts/${encodeURIComponent(digest)}`;
  return { cyclonedx: `${artifact}/sbom?format=cyclonedx`, spdx: `${artifact}/sbom?format=spdx`, provenance: `${artifact}/provenance` };
};

export interface FindingFilter {
  service?: string;
  owner?: string;
  severity?: FindingSeverity;
  status?: FindingStatus;
  overdue?: boolean;
}

/** Findings last seen first, a page at a time (`nextCursor` is the id of the last finding of a page). */
export function useFindings(filter: FindingFilter) {
  return useInfiniteQuery({
    queryKey: [...findingsKey, 'list', filter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      http.get<{ items: TrackedFinding[]; nextCursor: string | null }>(base, {
        query: { service: filter.service, owner: filter.owner, severity: filter.severity, status: filter.status, overdue: filter.overdue === undefined ? undefined : String(filter.overdue), limit: 50, after: pageParam },
        signal,
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useOverview() {
  return useQuery({ queryKey: [...findingsKey, 'overview'], queryFn: ({ signal }) => http.get<Overview>(`${base}/overview`, { signal }) });
}

export function useFinding(id: string) {
  return useQuery({ queryKey: [...findingsKey, 'one', id], queryFn: ({ signal }) => http.get<FindingDetail>(`${base}/${encodeURIComponent(id)}`, { signal }) });
}

export function useAcceptFinding(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { reason: string; expiresAt: string }) => http.post<TrackedFinding>(`${base}/${encodeURIComponent(id)}/accept`, input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: findingsKey }),
  });
}
