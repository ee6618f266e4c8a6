import { useState, type FormEvent } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { AuditEntry } from '../../../src/kernel/index.js';
import { formatDateTime } from '../components/format';
import { RefreshIcon } from '../components/icons';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useAuditLog, type AuditFilters } from './api';

const outcomeColor = { success: 'success', denied: 'warning', failure: 'error' } as const satisfies Record<
  AuditEntry['outcome'],
  'success' | 'warning' | 'error'
>;
const outcomes = Object.keys(outcomeColor) as AuditEntry['outcome'][];

/** The log records actors as refs (`user:default/alice`); a bare username is taken as a user's. */
export function actorRef(input: string): string {
  const actor = input.trim();
  if (actor === '' || actor.includes(':')) return actor;
  return `user:default/${actor.toLowerCase()}`;
}

/** Every state-changing call, who made it and how it ended; newest first. */
export function AuditPage() {
  const [filters, setFilters] = useState<AuditFilters>({ actor: '', outcome: '' });
  const [actorDraft, setActorDraft] = useState('');
  const log = useAuditLog(filters);

  const applyActor = (event: FormEvent) => {
    event.preventDefault();
    setFilters((current) => ({ ...current, actor: actorRef(actorDraft) }));
  };

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every state-changing call to the API: who made it, from where, and how it ended."
        actions={
          <Button
            variant="outlined"
            startIcon={<RefreshIcon />}
            onClick={() => void log.refetch()}
            loading={log.isRefetching && !log.isFetchingNextPage}
          >
            Refresh
          </Button>
        }
      />
      <Box
        component="form"
        role="search"
        aria-label="Filter the audit log"
        onSubmit={applyActor}
        sx={{ display: 'flex', gap: 1.5, mb: 2, flexWrap: 'wrap', alignItems: 'center' }}
      >
        <TextField
          label="Actor"
          placeholder="e.g. alice"
          value={actorDraft}
          slotProps={{ inputLabel: { shrink: true } }}
          onChange={(event) => setActorDraft(event.target.value)}
          sx={{ width: 260 }}
        />
        <TextField
          select
          label="Outcome"
          value={filters.outcome}
          slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}
          onChange={(event) =>
            setFilters((current) => ({ ...current, outcome: event.target.value as AuditFilters['outcome'] }))
          }
          sx={{ width: 180 }}
        >
          <MenuItem value="">Any outcome</MenuItem>
          {outcomes.map((outcome) => (
            <MenuItem key={outcome} value={outcome}>
              {outcome}
            </MenuItem>
          ))}
        </TextField>
        <Button type="submit" variant="contained">
          Apply
        </Button>
        {(filters.actor !== '' || filters.outcome !== '') && (
          <Button
            onClick={() => {
              setActorDraft('');
              setFilters({ actor: '', outcome: '' });
            }}
          >
            Clear filters
          </Button>
        )}
      </Box>

      <QueryState query={log} label="audit log">
        {(data) => {
          const entries = data.pages.flatMap((page) => page.items);
          return (
            <>
              <AuditTable entries={entries} />
              <Box sx={{ display: 'flex', alignItems: 'center', justifyContent: 'space-between', mt: 2, gap: 2 }}>
                <Typography variant="body2" color="text.secondary">
                  {entries.length === 1 ? '1 entry' : `${entries.length} entries`}
                  {log.hasNextPage ? ' shown' : ''}
                </Typography>
                {log.hasNextPage && (
                  <Button variant="outlined" onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
                    Load more
                  </Button>
                )}
              </Box>
            </>
          );
        }}
      </QueryState>
    </>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table aria-label="Audit log" size="small">
        <TableHead>
          <TableRow>
            <TableCell>Time</TableCell>
            <TableCell>Actor</TableCell>
            <TableCell>Action</TableCell>
            <TableCell>Method</TableCell>
            <TableCell>URL</TableCell>
            <TableCell>IP</TableCell>
            <TableCell align="right">Status</TableCell>
            <TableCell>Outcome</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {entries.length === 0 && (
            <TableRow>
              <TableCell colSpan={8}>
                <Typography variant="body2" color="text.secondary" sx={{ py: 3, textAlign: 'center' }}>
                  No entries match.
                </Typography>
              </TableCell>
            </TableRow>
          )}
          {entries.map((entry) => (
            <TableRow key={entry.id} hover>
              <TableCell sx={{ whiteSpace: 'nowrap' }}>
                <time dateTime={entry.time}>{formatDateTime(entry.time, true)}</time>
              </TableCell>
              <TableCell sx={{ fontWeight: 500 }}>{entry.actor}</TableCell>
              <TableCell>{entry.action}</TableCell>
              <TableCell>
                <Box component="code" sx={{ fontSize: 12.5, fontWeight: 600 }}>
                  {entry.method}
                </Box>
              </TableCell>
              <TableCell sx={{ maxWidth: 320, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={entry.url}>
                <Box component="code" sx={{ fontSize: 12.5 }}>
                  {entry.url}
                </Box>
              </TableCell>
              <TableCell sx={{ whiteSpace: 'nowrap' }}>{entry.ip}</TableCell>
              <TableCell align="right">{entry.statusCode}</TableCell>
              <TableCell>
                <Chip size="small" label={entry.outcome} color={outcomeColor[entry.outcome]} variant="outlined" />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
