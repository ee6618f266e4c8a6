import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import Snackbar from '@mui/material/Snackbar';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import Box from '@mui/material/Box';
import type { UserView } from '../../../src/kernel/index.js';
import { useMe } from '../app/auth';
import { visuallyHidden } from '../components/a11y';
import { formatDate } from '../components/format';
import { AddIcon } from '../components/icons';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useUpdateUser, useUsers } from './api';
import { CreateUserDialog } from './CreateUserDialog';
import { roleList, roleOptions, type Role } from './roles';

export function UsersPage() {
  const users = useUsers();
  const update = useUpdateUser();
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="People who can sign in to Plinth, and what their role lets them do."
        actions={
          <Button variant="contained" startIcon={<AddIcon />} onClick={() => setCreating(true)}>
            New user
          </Button>
        }
      />
      {update.isError && (
        <Alert severity="error" onClose={() => update.reset()} sx={{ mb: 2 }}>
          {update.error.message}
        </Alert>
      )}
      <QueryState query={users} label="users">
        {(items) => (
          <UsersTable
            users={items}
            pendingId={update.isPending ? update.variables.id : undefined}
            onChange={(user, change, message) =>
              update.mutate({ id: user.id, change }, { onSuccess: () => setNotice(message) })
            }
          />
        )}
      </QueryState>
      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(user) => setNotice(`User ${user.username} created`)}
      />
      <Snackbar
        open={notice !== null}
        autoHideDuration={4000}
        onClose={() => setNotice(null)}
        message={notice}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
      />
    </>
  );
}

function UsersTable({
  users,
  pendingId,
  onChange,
}: {
  users: UserView[];
  pendingId: string | undefined;
  onChange: (user: UserView, change: { role?: Role; disabled?: boolean }, message: string) => void;
}) {
  const me = useMe();
  return (
    <TableContainer component={Paper} variant="outlined">
      <Table aria-label="Users" size="small">
        <TableHead>
          <TableRow>
            <TableCell>Username</TableCell>
            <TableCell>Name</TableCell>
            <TableCell>Email</TableCell>
            <TableCell>Role</TableCell>
            <TableCell>Status</TableCell>
            <TableCell>Created</TableCell>
            <TableCell align="right">
              <Box component="span" sx={visuallyHidden}>
                Actions
              </Box>
            </TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {users.map((user) => {
            // Changing your own role or disabling yourself could lock the last admin out; another admin does it.
            const self = user.id === me.user.id;
            const busy = pendingId === user.id;
            return (
              <TableRow key={user.id} hover>
                <TableCell sx={{ fontWeight: 600 }}>{user.username}</TableCell>
                <TableCell>{user.displayName}</TableCell>
                <TableCell>{user.email ?? <Typography component="span" color="text.secondary">—</Typography>}</TableCell>
                <TableCell sx={{ minWidth: 170 }}>
                  <TextField
                    select
                    value={user.role}
                    disabled={self || busy}
                    onChange={(event) => {
                      const role = event.target.value as Role;
                      onChange(user, { role }, `${user.username} is now ${roleOptions[role].label.toLowerCase()}`);
                    }}
                    slotProps={{ htmlInput: { 'aria-label': `Role of ${user.username}` } }}
                    sx={{ minWidth: 160, '& .MuiSelect-select': { fontSize: 14, py: 0.5 } }}
                  >
                    {roleList.map((role) => (
                      <MenuItem key={role} value={role}>
                        {roleOptions[role].label}
                      </MenuItem>
                    ))}
                  </TextField>
                </TableCell>
                <TableCell>
                  <Chip
                    size="small"
                    label={user.disabled ? 'Disabled' : 'Active'}
                    color={user.disabled ? 'default' : 'success'}
                    variant={user.disabled ? 'outlined' : 'filled'}
                  />
                </TableCell>
                <TableCell>{formatDate(user.createdAt)}</TableCell>
                <TableCell align="right">
                  <Button
                    size="small"
                    color={user.disabled ? 'primary' : 'error'}
                    disabled={self}
                    loading={busy}
                    aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.username}`}
                    onClick={() =>
                      onChange(
                        user,
                        { disabled: !user.disabled },
                        `${user.username} ${user.disabled ? 'can sign in again' : 'is disabled'}`,
                      )
                    }
                  >
                    {user.disabled ? 'Enable' : 'Disable'}
                  </Button>
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
