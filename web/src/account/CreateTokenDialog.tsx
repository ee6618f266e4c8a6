import { useId, useState, type FormEvent } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControl from '@mui/material/FormControl';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import FormHelperText from '@mui/material/FormHelperText';
import FormLabel from '@mui/material/FormLabel';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import type { CreatedToken, TokenView } from '../../../src/kernel/index.js';
import { CopyIcon } from '../components/icons';
import { formatDate } from '../components/format';
import { useCreateToken } from './api';

type Scope = TokenView['scopes'][number];

const scopeOptions: Record<Scope, { label: string; help: string }> = {
  read: { label: 'Read', help: 'read everything you can see' },
  write: { label: 'Write', help: 'change what you may change' },
  admin: { label: 'Admin', help: 'administer the platform' },
};

/** Creates a token and shows its secret once; closing the dialog forgets the secret. */
export function CreateTokenDialog({
  open,
  allowedScopes,
  onClose,
}: {
  open: boolean;
  allowedScopes: readonly Scope[];
  onClose: () => void;
}) {
  const create = useCreateToken();
  const titleId = useId();
  const close = () => {
    create.reset();
    onClose();
  };

  return (
    <Dialog open={open} onClose={create.isPending ? undefined : close} aria-labelledby={titleId} maxWidth="sm" fullWidth>
      {create.data === undefined ? (
        <TokenForm titleId={titleId} allowedScopes={allowedScopes} create={create} onCancel={close} />
      ) : (
        <CreatedSecret titleId={titleId} created={create.data} onDone={close} />
      )}
    </Dialog>
  );
}

function TokenForm({
  titleId,
  allowedScopes,
  create,
  onCancel,
}: {
  titleId: string;
  allowedScopes: readonly Scope[];
  create: ReturnType<typeof useCreateToken>;
  onCancel: () => void;
}) {
  const formId = useId();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [expiresInDays, setExpiresInDays] = useState('90');
  const days = Number(expiresInDays);
  const daysValid = expiresInDays.trim() !== '' && Number.isInteger(days) && days >= 0 && days <= 3650;

  const toggle = (scope: Scope, checked: boolean) =>
    setScopes((current) => (checked ? [...current, scope] : current.filter((s) => s !== scope)));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), scopes, expiresInDays: days });
  };

  return (
    <>
      <DialogTitle id={titleId}>New API token</DialogTitle>
      <DialogContent>
        <Box component="form" id={formId} onSubmit={submit} noValidate sx={{ pt: 1 }}>
          <Stack spacing={2.5}>
            {create.isError && <Alert severity="error">{create.error.message}</Alert>}
            <TextField
              label="Token name"
              value={name}
              onChange={(event) => setName(event.target.value)}
              helperText="What uses it, e.g. “laptop CLI” or “deploy job”"
              autoFocus
              required
              fullWidth
              slotProps={{ htmlInput: { maxLength: 100 } }}
            />
            <FormControl component="fieldset" variant="standard">
              <FormLabel component="legend">Scopes</FormLabel>
              <FormGroup row>
                {(Object.keys(scopeOptions) as Scope[]).map((scope) => (
                  <FormControlLabel
                    key={scope}
                    label={scopeOptions[scope].label}
                    disabled={!allowedScopes.includes(scope)}
                    control={
                      <Checkbox
                        checked={scopes.includes(scope)}
                        onChange={(event) => toggle(scope, event.target.checked)}
                        slotProps={{ input: { 'aria-describedby': `${formId}-scopes-help` } }}
                      />
                    }
                  />
                ))}
              </FormGroup>
              <FormHelperText id={`${formId}-scopes-help`}>
                {(Object.keys(scopeOptions) as Scope[])
                  .filter((scope) => allowedScopes.includes(scope))
                  .map((scope) => `${scopeOptions[scope].label}: ${scopeOptions[scope].help}`)
                  .join('; ')}
                . A token never does more than your role allows.
              </FormHelperText>
            </FormControl>
            <TextField
              label="Expires in days"
              type="number"
              value={expiresInDays}
              onChange={(event) => setExpiresInDays(event.target.value)}
              error={!daysValid}
              helperText={daysValid ? (days === 0 ? 'Never expires' : `Expires on ${formatDate(addDays(days))}`) : 'A whole number from 0 (never) to 3650'}
              sx={{ maxWidth: 240 }}
              slotProps={{ htmlInput: { min: 0, max: 3650, step: 1 } }}
            />
          </Stack>
        </Box>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onCancel} disabled={create.isPending}>
          Cancel
        </Button>
        <Button
          type="submit"
          form={formId}
          variant="contained"
          loading={create.isPending}
          disabled={name.trim() === '' || scopes.length === 0 || !daysValid}
        >
          Create token
        </Button>
      </DialogActions>
    </>
  );
}

function addDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString();
}

function CreatedSecret({ titleId, created, onDone }: { titleId: string; created: CreatedToken; onDone: () => void }) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copySecret = () => {
    navigator.clipboard.writeText(created.secret).then(
      () => setCopy('copied'),
      () => setCopy('failed'),
    );
  };

  return (
    <>
      <DialogTitle id={titleId}>Token “{created.token.name}” created</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 1 }}>
          <Alert severity="warning">Copy the token now. Plinth stores only a hash of it and cannot show it again.</Alert>
          <Box sx={{ display: 'flex', gap: 1, alignItems: 'flex-start' }}>
            <TextField
              label="Token secret"
              value={created.secret}
              fullWidth
              onFocus={(event) => event.target.select()}
              slotProps={{ htmlInput: { readOnly: true, spellCheck: false, sx: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' } } }}
            />
            <Button variant="outlined" startIcon={<CopyIcon />} onClick={copySecret} sx={{ flexShrink: 0, height: 40 }}>
              {copy === 'copied' ? 'Copied' : 'Copy'}
            </Button>
          </Box>
          {copy === 'failed' && (
            <Alert severity="info">The browser did not allow copying; select the token and copy it yourself.</Alert>
          )}
        </Stack>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button variant="contained" onClick={onDone}>
          Done
        </Button>
      </DialogActions>
    </>
  );
}
