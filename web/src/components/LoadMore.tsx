import Box from '@mui/material/Box';
import Button from '@mui/material/Button';

/** The next page of a cursor-paged list (a TanStack infinite query); nothing once the last page is in. */
export function LoadMore({ query, label = 'Load more' }: { query: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<unknown> }; label?: string }) {
  if (!query.hasNextPage) return null;
  return (
    <Box sx={{ display: 'flex', justifyContent: 'center', mt: 2 }}>
      <Button variant="outlined" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
        {label}
      </Button>
    </Box>
  );
}
