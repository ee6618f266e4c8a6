import { createContext, useContext, useEffect, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { LoginView, MeView } from '../../../src/kernel/index.js';
import { ApiError, http, isApiError, setCsrfToken, setUnauthorizedHandler } from './http';
import { FullPageError, FullPageLoading } from './FullPageState';

const meKey = ['auth', 'me'] as const;

/** The session probe: the signed-in user, or null when there is no session (a 401 is an answer here). */
async function fetchMe(signal?: AbortSignal): Promise<MeView | null> {
  try {
    const me = await http.get<MeView>('/api/auth/me', { signal, redirectOnUnauthorized: false });
    setCsrfToken(me.csrfToken);
    return me;
  } catch (error) {
    if (isApiError(error, 401)) {
      setCsrfToken(undefined);
      return null;
    }
    throw error;
  }
}

const MeContext = createContext<MeView | null | undefined>(undefined);

/** Restores the session on page load and keeps the signed-in user for every screen below it. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const me = useQuery({ queryKey: meKey, queryFn: ({ signal }) => fetchMe(signal), staleTime: 60_000 });

  useEffect(() => {
    // A 401 anywhere means the session ended (expired, revoked, signed out in another tab).
    setUnauthorizedHandler(() => endSession(queryClient));
  }, [queryClient]);

  if (me.isPending) return <FullPageLoading label="Loading Plinth" />;
  if (me.isError) return <FullPageError title="Plinth is not reachable" error={me.error} onRetry={() => void me.refetch()} />;
  return <MeContext.Provider value={me.data}>{children}</MeContext.Provider>;
}

function endSession(queryClient: QueryClient): void {
  setCsrfToken(undefined);
  // A session probe still in flight (a refetch on window focus, say) would answer with the user
  // the server saw before the sign-out and sign them back in here; cancelling it discards that answer.
  void queryClient.cancelQueries({ queryKey: meKey });
  queryClient.removeQueries({ predicate: (query) => !isMeKey(query.queryKey) });
  queryClient.setQueryData(meKey, null);
}

function isMeKey(key: readonly unknown[]): boolean {
  return key.length === meKey.length && key.every((part, i) => part === meKey[i]);
}

/** The signed-in user, or null on public pages such as the login page. */
export function useOptionalMe(): MeView | null {
  const me = useContext(MeContext);
  if (me === undefined) throw new Error('useOptionalMe needs an AuthProvider above it');
  return me;
}

/** The signed-in user; only for screens under RequireAuth. */
export function useMe(): MeView {
  const me = useOptionalMe();
  if (me === null) throw new Error('useMe is only for signed-in screens; wrap the route in RequireAuth');
  return me;
}

export function isPlatformAdmin(me: MeView): boolean {
  return me.user.role === 'platform-admin';
}

export interface Credentials {
  username: string;
  password: string;
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (credentials: Credentials): Promise<MeView> => {
      const login = await http.post<LoginView>('/api/auth/login', credentials, { redirectOnUnauthorized: false });
      setCsrfToken(login.csrfToken);
      const me = await fetchMe();
      if (me === null) {
        throw new ApiError(
          'AuthenticationError',
          'signed in, but the browser did not keep the session cookie; open Plinth over HTTPS or from localhost',
          401,
        );
      }
      return me;
    },
    onSuccess: (me) => {
      // Nothing cached for a previous user may show for this one.
      queryClient.removeQueries({ predicate: (query) => !isMeKey(query.queryKey) });
      queryClient.setQueryData(meKey, me);
    },
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => http.post<void>('/api/auth/logout', undefined, { redirectOnUnauthorized: false }),
    // Signed out locally even when the call fails: the user asked to leave, and an expired session is gone anyway.
    onSettled: () => endSession(queryClient),
  });
}
