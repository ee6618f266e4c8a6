import { useState } from 'react';
import Button from '@mui/material/Button';
import { useMe } from '../app/auth';
import { AddIcon } from '../components/icons';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { TokenTable } from '../components/TokenTable';
import { useOwnTokens, useRevokeToken } from './api';
import { CreateTokenDialog } from './CreateTokenDialog';

/** The signed-in user's API tokens, for the CLI, CI jobs and scripts. */
export function TokensPage() {
  const me = useMe();
  const tokens = useOwnTokens();
  const revoke = useRevokeToken();
  const [creating, setCreating] = useState(false);

  return (
    <>
      <PageHeader
        title="API tokens"
        subtitle={
          <>
            Tokens let the <code>plinth</code> CLI, CI jobs and scripts call the API as {me.user.username}. Send one as{' '}
            <code>Authorization: Bearer &lt;token&gt;</code>.
          </>
        }
        actions={
          <Button variant="contained" startIcon={<AddIcon />} onClick={() => setCreating(true)}>
            New token
          </Button>
        }
      />
      <QueryState query={tokens} label="API tokens">
        {(items) => <TokenTable tokens={items} label="Your API tokens" revoke={revoke} />}
      </QueryState>
      <CreateTokenDialog open={creating} allowedScopes={me.scopes} onClose={() => setCreating(false)} />
    </>
  );
}
