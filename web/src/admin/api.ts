import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AuditEntry, CreateUserInput, TokenView, UpdateUserInput, UserView } from '../../../src/kernel/index.js';

export type { CreateUserInput, UpdateUserInput };

import { http } from '../app/http';

const usersKey = ['admin', 'users'] as const;
const tokensKey = ['auth', 'tokens'] as const;

export function useUsers() {
  return useQuery({
    queryKey: usersKey,
    queryFn: async ({ signal }) => (await http.get<{ items: UserView[] }>('/api/users', { signal })).items,
  });
}

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateUserInput) => http.post<UserView>('/api/users', input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: usersKey }),
  });
}

export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, change }: { id: string; change: UpdateUserInput }) =>
      http.patch<UserView>(`/api/users/${encodeURIComponent(id)}`, change),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: usersKey }),
  });
}

/** Every user's tokens (platform admins only). */
export function useAllTokens() {
  return useQuery({
    queryKey: [...tokensKey, 'all'],
    queryFn: async ({ signal }) =>
      (await http.get<{ items: TokenView[] }>('/api/auth/tokens', { query: { all: true }, signal })).items,
  });
}

export function useRevokeAnyToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (token: TokenView) => http.delete(`/api/auth/tokens/${encodeURIComponent(token.id)}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: tokensKey }),
  });
}

export interface AuditFilters {
  actor: string;
  outcome: AuditEntry['outcome'] | '';
}

interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

export const auditPageSize = 50;

/** The audit log, newest first, one page of 50 at a time behind the server's cursor. */
export function useAuditLog(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: ['admin', 'audit', filters],
    queryFn: ({ pageParam, signal }) =>
      http.get<AuditPage>('/api/audit', {
        query: { actor: filters.actor.trim(), outcome: filters.outcome, limit: auditPageSize, cursor: pageParam },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (lastPage) => lastPage.nextCursor ?? undefined,
  });
}
