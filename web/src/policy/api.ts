import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Decision, EnforcementPoint, ExceptionView, PolicyView } from '../../../src/policy/index.js';
import { http } from '../app/http';

export type { Decision, EnforcementPoint, ExceptionView, PolicyView };

const policyKey = ['policy'] as const;

export interface ViolationView {
  point: EnforcementPoint;
  subject: string;
  owner: string | null;
  policy: string;
  rule: string;
  status: 'fail' | 'error' | 'warn';
  message: string;
  failureAction: 'Enforce' | 'Audit';
  updatedAt: string;
}

export function usePolicies() {
  return useQuery({
    queryKey: [...policyKey, 'policies'],
    queryFn: async ({ signal }) => (await http.get<{ items: PolicyView[] }>('/api/policy/policies', { signal })).items,
  });
}

export function usePolicyYaml(name: string | undefined) {
  return useQuery({
    queryKey: [...policyKey, 'policies', name],
    enabled: name !== undefined,
    queryFn: async ({ signal }) => (await http.get<PolicyView & { yaml: string }>(`/api/policy/policies/${encodeURIComponent(name!)}`, { signal })).yaml,
  });
}

export function useViolations(owner: string) {
  return useQuery({
    queryKey: [...policyKey, 'violations', owner],
    queryFn: async ({ signal }) =>
      (await http.get<{ items: ViolationView[] }>('/api/policy/violations', { query: { owner: owner.trim() === '' ? undefined : owner.trim(), limit: 500 }, signal })).items,
  });
}

export function useExceptions() {
  return useQuery({
    queryKey: [...policyKey, 'exceptions'],
    queryFn: async ({ signal }) => (await http.get<{ items: ExceptionView[] }>('/api/policy/exceptions', { signal })).items,
  });
}

export interface NewException {
  policy: string;
  rules?: string[];
  match: { kinds?: string[]; names?: string[]; namespaces?: string[] };
  reason: string;
  expiresAt: string;
}

export function useCreateException() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: NewException) => http.post<ExceptionView>('/api/policy/exceptions', input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: policyKey }),
  });
}

export function useDeleteException() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => http.delete(`/api/policy/exceptions/${encodeURIComponent(id)}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: policyKey }),
  });
}

export function useCheck() {
  return useMutation({
    mutationFn: async (input: { point: EnforcementPoint; yaml: string }) => (await http.post<{ decisions: Decision[] }>('/api/policy/check', input)).decisions,
  });
}
