import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { TokenTable } from '../components/TokenTable';
import { useAllTokens, useRevokeAnyToken } from './api';

/** Every user's API tokens, so an admin can revoke a leaked or forgotten one. */
export function AllTokensPage() {
  const tokens = useAllTokens();
  const revoke = useRevokeAnyToken();
  return (
    <>
      <PageHeader title="All API tokens" subtitle="Tokens of every user. Revoke one that leaked or is no longer needed." />
      <QueryState query={tokens} label="API tokens">
        {(items) => <TokenTable tokens={items} label="All API tokens" showOwner revoke={revoke} />}
      </QueryState>
    </>
  );
}
