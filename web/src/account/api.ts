import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateTokenInput, CreatedToken, TokenView } from '../../../src/kernel/index.js';

export type { CreateTokenInput };

import { http } from '../app/http';

/** Every token list lives under this key, so a change anywhere refreshes the user's and the admin's lists. */
export const tokensKey = ['auth', 'tokens'] as const;

export function useOwnTokens() {
  return useQuery({
    queryKey: [...tokensKey, 'own'],
    queryFn: async ({ signal }) => (await http.get<{ items: TokenView[] }>('/api/auth/tokens', { signal })).items,
  });
}

export function useCreateToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateTokenInput) => http.post<CreatedToken>('/api/auth/tokens', input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: tokensKey }),
  });
}

export function useRevokeToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (token: TokenView) => http.delete(`/api/auth/tokens/${encodeURIComponent(token.id)}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: tokensKey }),
  });
}
