import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import type { LedgerEventView } from '../../../src/kernel/index.js';
import type { BackupRecord, ClaimView, CostLine, CreateClaimBody, ModuleView, Operation, PlanView } from '../../../src/resources/index.js';
import { http } from '../app/http';
import type { BudgetView } from './view';

export type { BackupRecord, BudgetView, ClaimView, CostLine, CreateClaimBody, LedgerEventView, ModuleView, Operation, PlanView };


const resourcesKey = ['resources'] as const;
const base = '/api/resources';

/** Every module version of the menu; the page groups them by name. */
export function useModules() {
  return useQuery({
    queryKey: [...resourcesKey, 'modules'],
    queryFn: async ({ signal }) => (await http.get<{ items: ModuleView[] }>(`${base}/modules`, { signal })).items,
    staleTime: 60_000,
  });
}

export function useModule(name: string) {
  return useQuery({
    queryKey: [...resourcesKey, 'modules', name],
    queryFn: ({ signal }) => http.get<ModuleView>(`${base}/modules/${encodeURIComponent(name)}`, { signal }),
    // A form being filled in must not change under the user's hands.
    staleTime: Infinity,
  });
}

/** Plans a claim: what would be created, its cost and the guardrails' decision; the server creates and records nothing. */
export function usePlan() {
  return useMutation({ mutationFn: (body: CreateClaimBody) => http.post<PlanView>(`${base}/plans`, body) });
}

export function useCreateClaim() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateClaimBody) => http.post<{ claim: ClaimView; plan: PlanView }>(`${base}/claims`, body),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [...resourcesKey, 'claims'] }),
  });
}

const inFlight = (claim: ClaimView) => claim.phase === 'provisioning' || claim.phase === 'deleting';

/**
 * Claims of the given owners (one request per owner: the API filters by one owner, in SQL), or every
 * claim when `owners` is undefined. Polls while any is provisioning or deleting.
 */
export function useClaims(owners: readonly string[] | undefined) {
  const lists = useQueries({
    queries: (owners ?? [undefined]).map((owner) => ({
      queryKey: [...resourcesKey, 'claims', 'list', owner ?? 'all'],
      queryFn: async ({ signal }: { signal: AbortSignal }) => (await http.get<{ items: ClaimView[] }>(`${base}/claims`, { query: { owner, limit: 500 }, signal })).items,
      refetchInterval: (query: { state: { data?: ClaimView[] } }) => (query.state.data?.some(inFlight) ? 1000 : false as const),
    })),
  });
  const error = lists.find((l) => l.error !== null)?.error ?? null;
  const data = lists.every((l) => l.data !== undefined)
    ? lists.flatMap((l) => l.data ?? []).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id))
    : undefined;
  return { data, error, refetch: () => Promise.all(lists.map((l) => l.refetch())) };
}

export function claimKey(id: string) {
  return [...resourcesKey, 'claims', 'one', id] as const;
}

/** One claim, polled every second while it is provisioning or deleting; a deleted claim answers 404. */
export function useClaim(id: string) {
  return useQuery({
    queryKey: claimKey(id),
    queryFn: ({ signal }) => http.get<ClaimView>(`${base}/claims/${encodeURIComponent(id)}`, { signal }),
    refetchInterval: (query) => (query.state.data !== undefined && inFlight(query.state.data) && query.state.error === null ? 1000 : false),
    retry: (count, error) => !(error instanceof Error && 'statusCode' in error && error.statusCode === 404) && count < 2,
  });
}

export function useClaimBackups(id: string, enabled: boolean) {
  return useQuery({
    queryKey: [...claimKey(id), 'backups'],
    enabled,
    queryFn: async ({ signal }) => (await http.get<{ items: BackupRecord[] }>(`${base}/claims/${encodeURIComponent(id)}/backups`, { signal })).items,
  });
}

/**
 * Backups, restores and rotations of a claim, newest first; polled while one is queued. When one
 * finishes, the claim and its backups are read again (a new backup, new secret version, drift).
 */
export function useClaimOperations(id: string, enabled: boolean) {
  const queryClient = useQueryClient();
  const key = [...claimKey(id), 'operations'];
  return useQuery({
    queryKey: key,
    enabled,
    queryFn: async ({ signal }) => {
      const before = queryClient.getQueryData<Operation[]>(key);
      const { items } = await http.get<{ items: Operation[] }>(`${base}/claims/${encodeURIComponent(id)}/operations`, { signal });
      const wasQueued = new Set((before ?? []).filter((op) => op.phase === 'queued').map((op) => op.id));
      if (items.some((op) => wasQueued.has(op.id) && op.phase !== 'queued')) {
        void queryClient.invalidateQueries({ queryKey: claimKey(id), predicate: (query) => query.queryKey[4] !== 'operations' });
      }
      return items;
    },
    refetchInterval: (query) => (query.state.data?.some((op) => op.phase === 'queued') ? 1000 : false),
  });
}

/** The ledger events about the claim's name and environment since it was created (requested, provisioned, drift, backups, …). */
export function useClaimHistory(claim: ClaimView | undefined) {
  const subject = claim === undefined ? undefined : `resource:${claim.environment}/${claim.name}`;
  return useQuery({
    queryKey: [...resourcesKey, 'history', claim?.id, claim?.phase, claim?.updatedAt],
    enabled: claim !== undefined,
    queryFn: async ({ signal }) => {
      const { items } = await http.get<{ items: LedgerEventView[] }>('/api/events', { query: { subject, since: claim!.createdAt, limit: 200 }, signal });
      return items.filter((event) => !isOtherClaim(event, claim!.id)).reverse();
    },
    placeholderData: (previous) => previous,
  });
}

/** Events naming another claim id belong to an earlier claim of the same name. */
function isOtherClaim(event: LedgerEventView, id: string): boolean {
  const payload = event.payload;
  return typeof payload === 'object' && payload !== null && 'claimId' in payload && payload.claimId !== id;
}

function useClaimAction<T, I = void>(id: string, call: (input: I) => Promise<T>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: call, onSuccess: () => queryClient.invalidateQueries({ queryKey: claimKey(id) }) });
}

export function useDeleteClaim(id: string) {
  return useClaimAction(id, () => http.delete<ClaimView>(`${base}/claims/${encodeURIComponent(id)}`));
}

export function useBackupClaim(id: string) {
  return useClaimAction(id, () => http.post<Operation>(`${base}/claims/${encodeURIComponent(id)}/backup`));
}

export function useRestoreClaim(id: string) {
  return useClaimAction(id, (backupId: string | undefined) => http.post<Operation>(`${base}/claims/${encodeURIComponent(id)}/restore`, backupId === undefined ? {} : { backupId }));
}

/** The plan of upgrading a claim to `version`: a dry run, so nothing changes; read afresh each time it is shown. */
export function useUpgradePlan(id: string, version: string) {
  return useQuery({
    queryKey: [...claimKey(id), 'upgrade-plan', version],
    queryFn: async () => (await http.post<{ plan: PlanView }>(`${base}/claims/${encodeURIComponent(id)}/upgrade`, { version, dryRun: true })).plan,
    staleTime: 0,
    gcTime: 0,
  });
}

export function useUpgradeClaim(id: string) {
  return useClaimAction(id, (version: string) => http.post<{ claim: ClaimView; plan: PlanView }>(`${base}/claims/${encodeURIComponent(id)}/upgrade`, { version }));
}

export function useRotateClaim(id: string) {
  return useClaimAction(id, () => http.post<Operation>(`${base}/claims/${encodeURIComponent(id)}/rotate`, {}));
}

/** Budgets and the live claims' spend, for the plan's budget check; read afresh for each plan (`planNumber`). */
export function useBudgetCheck(planNumber: number) {
  const budgets = useQuery({
    queryKey: ['policy', 'budgets', planNumber],
    queryFn: async ({ signal }) => (await http.get<{ items: BudgetView[] }>('/api/policy/budgets', { signal })).items,
  });
  const spendByTeam = useQuery({
    queryKey: [...resourcesKey, 'costs', 'team', planNumber],
    queryFn: async ({ signal }) => (await http.get<{ items: CostLine[] }>(`${base}/costs`, { query: { by: 'team' }, signal })).items,
  });
  const spendByCostCenter = useQuery({
    queryKey: [...resourcesKey, 'costs', 'cost-center', planNumber],
    queryFn: async ({ signal }) => (await http.get<{ items: CostLine[] }>(`${base}/costs`, { query: { by: 'cost-center' }, signal })).items,
  });
  return { budgets, spendByTeam, spendByCostCenter };
}
