import { useState } from 'react';
import type { UseMutationResult } from '@tanstack/react-query';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import type { TokenView } from '../../../src/kernel/index.js';
import { visuallyHidden } from './a11y';
import { ConfirmDialog } from './ConfirmDialog';
import { formatDate, formatDateTime } from './format';

type TokenStatus = 'active' | 'expired' | 'revoked';

export function tokenStatus(token: TokenView, now = Date.now()): TokenStatus {
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now) return 'expired';
  return 'active';
}

const statusColor = { active: 'success', expired: 'warning', revoked: 'default' } as const;

/** API tokens with their state and a revoke action; the admin view adds the owner column. */
export function TokenTable({
  tokens,
  label,
  showOwner = false,
  revoke,
}: {
  tokens: TokenView[];
  /** The table's accessible name. */
  label: string;
  showOwner?: boolean;
  revoke: UseMutationResult<void, Error, TokenView>;
}) {
  const [confirming, setConfirming] = useState<TokenView | null>(null);
  const revokeName = (token: TokenView) => (showOwner ? `Revoke ${token.name} of ${token.username}` : `Revoke ${token.name}`);

  const close = () => {
    setConfirming(null);
    revoke.reset();
  };

  return (
    <>
      <TableContainer component={Paper} variant="outlined">
        <Table aria-label={label} size="small">
          <TableHead>
            <TableRow>
              <TableCell>Name</TableCell>
              {showOwner && <TableCell>User</TableCell>}
              <TableCell>Prefix</TableCell>
              <TableCell>Scopes</TableCell>
              <TableCell>Created</TableCell>
              <TableCell>Expires</TableCell>
              <TableCell>Last used</TableCell>
              <TableCell>Status</TableCell>
              <TableCell align="right">
                <Box component="span" sx={visuallyHidden}>
                  Actions
                </Box>
              </TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {tokens.length === 0 && (
              <TableRow>
                <TableCell colSpan={showOwner ? 9 : 8}>
                  <Typography variant="body2" color="text.secondary" sx={{ py: 3, textAlign: 'center' }}>
                    No API tokens yet.
                  </Typography>
                </TableCell>
              </TableRow>
            )}
            {tokens.map((token) => {
              const status = tokenStatus(token);
              return (
                <TableRow key={token.id} hover>
                  <TableCell sx={{ fontWeight: 600, whiteSpace: 'nowrap' }}>{token.name}</TableCell>
                  {showOwner && <TableCell>{token.username}</TableCell>}
                  <TableCell>
                    <Box component="code" sx={{ fontSize: 13 }}>
                      {token.prefix}…
                    </Box>
                  </TableCell>
                  <TableCell>
                    <Box sx={{ display: 'flex', gap: 0.5 }}>
                      {token.scopes.map((scope) => (
                        <Chip key={scope} label={scope} size="small" variant="outlined" />
                      ))}
                    </Box>
                  </TableCell>
                  <TableCell>{formatDate(token.createdAt)}</TableCell>
                  <TableCell>{token.expiresAt === null ? 'Never' : formatDate(token.expiresAt)}</TableCell>
                  <TableCell>{token.lastUsedAt === null ? 'Never' : formatDateTime(token.lastUsedAt)}</TableCell>
                  <TableCell>
                    <Chip label={status} size="small" color={statusColor[status]} />
                  </TableCell>
                  <TableCell align="right">
                    {status !== 'revoked' && (
                      <Button size="small" color="error" aria-label={revokeName(token)} onClick={() => setConfirming(token)}>
                        Revoke
                      </Button>
                    )}
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      </TableContainer>
      <ConfirmDialog
        open={confirming !== null}
        title={`Revoke token “${confirming?.name ?? ''}”?`}
        confirmLabel="Revoke"
        pending={revoke.isPending}
        error={revoke.error}
        onClose={close}
        onConfirm={() => {
          if (confirming !== null) revoke.mutate(confirming, { onSuccess: close });
        }}
      >
        Clients using this token are refused from now on. This cannot be undone.
      </ConfirmDialog>
    </>
  );
}
