import { useId, useState, type FormEvent } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import MenuItem from '@mui/material/MenuItem';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import type { UserView } from '../../../src/kernel/index.js';
import { useCreateUser } from './api';
import { roleList, roleOptions, type Role } from './roles';

interface Draft {
  username: string;
  displayName: string;
  email: string;
  role: Role;
  password: string;
}

const emptyDraft: Draft = { username: '', displayName: '', email: '', role: 'member', password: '' };

export function CreateUserDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (user: UserView) => void;
}) {
  const create = useCreateUser();
  const titleId = useId();
  const formId = useId();
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const set = (field: keyof Draft) => (event: { target: { value: string } }) =>
    setDraft((current) => ({ ...current, [field]: event.target.value }));

  const close = () => {
    setDraft(emptyDraft);
    create.reset();
    onClose();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      {
        username: draft.username.trim(),
        role: draft.role,
        password: draft.password,
        // Optional fields are left out when empty rather than sent as '' (which the server rejects).
        ...(draft.displayName.trim() !== '' ? { displayName: draft.displayName.trim() } : {}),
        ...(draft.email.trim() !== '' ? { email: draft.email.trim() } : {}),
      },
      {
        onSuccess: (user) => {
          onCreated(user);
          close();
        },
      },
    );
  };

  return (
    <Dialog open={open} onClose={create.isPending ? undefined : close} aria-labelledby={titleId} maxWidth="sm" fullWidth>
      <DialogTitle id={titleId}>New user</DialogTitle>
      <DialogContent>
        <Box component="form" id={formId} onSubmit={submit} noValidate sx={{ pt: 1 }}>
          <Stack spacing={2.5}>
            {create.isError && <Alert severity="error">{create.error.message}</Alert>}
            <TextField
              label="Username"
              value={draft.username}
              onChange={set('username')}
              helperText="Lowercase letters, digits, “.”, “_” or “-”; it cannot change later"
              autoComplete="off"
              autoFocus
              required
              fullWidth
            />
            <TextField label="Display name" value={draft.displayName} onChange={set('displayName')} fullWidth />
            <TextField label="Email" type="email" value={draft.email} onChange={set('email')} fullWidth />
            <TextField
              select
              label="Role"
              value={draft.role}
              onChange={set('role')}
              helperText={roleOptions[draft.role].help}
              fullWidth
            >
              {roleList.map((role) => (
                <MenuItem key={role} value={role}>
                  {roleOptions[role].label}
                </MenuItem>
              ))}
            </TextField>
            <TextField
              label="Initial password"
              type="password"
              value={draft.password}
              onChange={set('password')}
              helperText="At least 8 characters; share it with the user privately"
              autoComplete="new-password"
              required
              fullWidth
            />
          </Stack>
        </Box>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={close} disabled={create.isPending}>
          Cancel
        </Button>
        <Button
          type="submit"
          form={formId}
          variant="contained"
          loading={create.isPending}
          disabled={draft.username.trim() === '' || draft.password === ''}
        >
          Create user
        </Button>
      </DialogActions>
    </Dialog>
  );
}
