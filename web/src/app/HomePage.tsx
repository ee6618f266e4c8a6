import type { ReactNode } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import Divider from '@mui/material/Divider';
import Typography from '@mui/material/Typography';
import type { MeView, StatusView } from '../../../src/kernel/index.js';
import { formatDuration } from '../components/format';
import { QueryState } from '../components/QueryState';
import { useMe } from './auth';
import { http } from './http';

const roleLabels: Record<MeView['user']['role'], string> = {
  'platform-admin': 'Platform admin',
  member: 'Member',
  viewer: 'Viewer',
};

export function HomePage() {
  const me = useMe();
  const status = useQuery({
    queryKey: ['status'],
    queryFn: ({ signal }) => http.get<StatusView>('/api/status', { signal }),
    refetchInterval: 30_000,
  });

  return (
    <>
      <Box sx={{ mb: 4 }}>
        <Typography variant="h4" component="h1">
          Welcome, {me.user.displayName || me.user.username}
        </Typography>
        <Typography color="text.secondary" sx={{ mt: 0.5 }}>
          Plinth brings your services, golden paths, infrastructure and delivery together in one place.
        </Typography>
      </Box>

      <Box sx={{ display: 'grid', gap: 3, gridTemplateColumns: { xs: '1fr', md: '1fr 1fr' }, alignItems: 'start' }}>
        <Card component="section" aria-labelledby="home-account">
          <CardContent sx={{ p: 3 }}>
            <Typography id="home-account" variant="h6" component="h2" gutterBottom>
              Your account
            </Typography>
            <Facts>
              <Fact label="Username">{me.user.username}</Fact>
              <Fact label="Role">
                <Chip size="small" color={me.user.role === 'platform-admin' ? 'primary' : 'default'} label={roleLabels[me.user.role]} />
              </Fact>
              <Fact label="Email">{me.user.email ?? '—'}</Fact>
              <Fact label="Signed in with">{me.authMethod === 'session' ? 'Password session' : 'API token'}</Fact>
              <Fact label="Scopes">{me.scopes.join(', ')}</Fact>
            </Facts>
            <Divider sx={{ my: 2 }} />
            <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
              <Button variant="outlined" size="small" component={RouterLink} to="/settings/tokens">
                Manage API tokens
              </Button>
              <Button size="small" href="/api/reference">
                Browse the API
              </Button>
            </Box>
          </CardContent>
        </Card>

        <Card component="section" aria-labelledby="home-status">
          <CardContent sx={{ p: 3 }}>
            <Typography id="home-status" variant="h6" component="h2" gutterBottom>
              Server status
            </Typography>
            <QueryState query={status} label="server status">
              {(s) => (
                <Facts>
                  <Fact label="Version">{s.version}</Fact>
                  <Fact label="Uptime">{formatDuration(s.uptimeS)}</Fact>
                  <Fact label="Database">{s.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}</Fact>
                  <Fact label="Jobs">
                    {s.queue.queued} queued · {s.queue.running} running
                    {s.queue.dead > 0 ? (
                      <Chip size="small" color="error" label={`${s.queue.dead} dead`} sx={{ ml: 1 }} />
                    ) : (
                      ' · 0 dead'
                    )}
                  </Fact>
                  <Fact label="Ledger">{s.ledger.lastSeq.toLocaleString()} events</Fact>
                </Facts>
              )}
            </QueryState>
          </CardContent>
        </Card>
      </Box>
    </>
  );
}

function Facts({ children }: { children: ReactNode }) {
  return (
    <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 3, rowGap: 1.25, m: 0 }}>
      {children}
    </Box>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <Typography component="dt" variant="body2" color="text.secondary">
        {label}
      </Typography>
      <Typography component="dd" variant="body2" sx={{ m: 0, fontWeight: 500 }}>
        {children}
      </Typography>
    </>
  );
}
