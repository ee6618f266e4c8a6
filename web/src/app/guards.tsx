import type { ReactNode } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import type { MeView } from '../../../src/kernel/index.js';
import { useOptionalMe } from './auth';

/** Where the login page sends the user back to. */
export interface LoginState {
  from?: string;
}

/** Signed-in screens only: anyone else goes to the login page and comes back after signing in. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useOptionalMe();
  const location = useLocation();
  if (me === null) {
    const state: LoginState = { from: `${location.pathname}${location.search}` };
    return <Navigate to="/login" replace state={state} />;
  }
  return <>{children}</>;
}

/**
 * Hides screens a user may not use. The server is the authority (it answers 403); this only spares
 * the user a page of errors.
 */
export function RequireRole({ allow, area }: { allow: (me: MeView) => boolean; area: string }) {
  const me = useOptionalMe();
  if (me === null || !allow(me)) {
    return (
      <Alert severity="warning">
        <AlertTitle>Not allowed</AlertTitle>
        {area} is for platform admins; you are signed in as {me?.user.username ?? 'nobody'} ({me?.user.role ?? 'no role'}).
      </Alert>
    );
  }
  return <Outlet />;
}
