import type { ReactNode } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';

/** What QueryState reads from a TanStack query result (plain or infinite). */
export interface QueryLike<T> {
  data: T | undefined;
  error: Error | null;
  refetch: () => unknown;
}

/**
 * Loading, error (the server's message) or data: the three states every screen renders. When a
 * background refresh fails, the data stays on screen under the error.
 */
export function QueryState<T>({
  query,
  label,
  children,
}: {
  query: QueryLike<T>;
  /** What is loading, for the progress indicator's accessible name ("users", "server status"). */
  label: string;
  children: (data: T) => ReactNode;
}) {
  const retry = () => void query.refetch();
  if (query.data === undefined) {
    if (query.error !== null) return <ErrorNotice error={query.error} onRetry={retry} />;
    return <Loading label={`Loading ${label}`} />;
  }
  return (
    <>
      {query.error !== null && (
        <Box sx={{ mb: 2 }}>
          <ErrorNotice error={query.error} onRetry={retry} />
        </Box>
      )}
      {children(query.data)}
    </>
  );
}

export function Loading({ label }: { label: string }) {
  return (
    <Box sx={{ display: 'flex', justifyContent: 'center', py: 6 }}>
      <CircularProgress size={32} aria-label={label} />
    </Box>
  );
}

export function ErrorNotice({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  return (
    <Alert
      severity="error"
      action={
        onRetry ? (
          <Button color="inherit" size="small" onClick={onRetry}>
            Retry
          </Button>
        ) : undefined
      }
    >
      {error.message}
    </Alert>
  );
}
