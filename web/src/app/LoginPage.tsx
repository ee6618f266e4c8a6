import { useState, type FormEvent } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { PlinthMark } from '../components/icons';
import { useLogin, useOptionalMe } from './auth';
import type { LoginState } from './guards';

export function LoginPage() {
  const me = useOptionalMe();
  const location = useLocation();
  const login = useLogin();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');

  if (me !== null) {
    const from = (location.state as LoginState | null)?.from;
    return <Navigate to={from !== undefined && from.startsWith('/') && from !== '/login' ? from : '/'} replace />;
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ username: username.trim(), password });
  };

  return (
    <Box
      component="main"
      sx={{
        minHeight: '100vh',
        display: 'grid',
        placeItems: 'center',
        p: 2,
        background: 'linear-gradient(160deg, #eef2fd 0%, #f4f6fb 45%, #eef6f4 100%)',
      }}
    >
      <Paper variant="outlined" sx={{ width: '100%', maxWidth: 400, p: { xs: 3, sm: 4 }, boxShadow: '0 8px 30px rgba(17,24,39,0.06)' }}>
        <Stack spacing={0.5} sx={{ alignItems: 'center', mb: 3 }}>
          <PlinthMark size={44} />
          <Typography variant="h5" component="h1" sx={{ pt: 1 }}>
            Sign in to Plinth
          </Typography>
          <Typography variant="body2" color="text.secondary">
            Your Internal Developer Platform
          </Typography>
        </Stack>
        <Box component="form" onSubmit={submit} noValidate aria-label="Sign in">
          <Stack spacing={2}>
            {login.isError && <Alert severity="error">{login.error.message}</Alert>}
            <TextField
              label="Username"
              name="username"
              autoComplete="username"
              autoFocus
              fullWidth
              size="medium"
              value={username}
              onChange={(event) => setUsername(event.target.value)}
            />
            <TextField
              label="Password"
              name="password"
              type="password"
              autoComplete="current-password"
              fullWidth
              size="medium"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
            <Button
              type="submit"
              variant="contained"
              size="large"
              fullWidth
              loading={login.isPending}
              disabled={username.trim() === '' || password === ''}
            >
              Sign in
            </Button>
          </Stack>
        </Box>
      </Paper>
    </Box>
  );
}
