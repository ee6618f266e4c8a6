import { Link as RouterLink } from 'react-router-dom';
import Avatar from '@mui/material/Avatar';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { entityNameOf, entityRoute, entityTitle, parseEntityRef, relationTargets, specString } from '../components/entity-refs';
import { EmailIcon } from '../components/icons';
import { QueryState } from '../components/QueryState';
import { useEntitiesByRefs } from './api';

/** Groups and users: a group's members, a user's profile and groups. */

export function MembersTable({ entity }: { entity: Entity }) {
  const memberRefs = relationTargets(entity, 'hasMember');
  const members = useEntitiesByRefs(memberRefs);
  return (
    <Box component="section" aria-labelledby="group-members">
      <Typography id="group-members" variant="h6" component="h2" sx={{ mb: 1.5 }}>
        Members ({memberRefs.length})
      </Typography>
      <QueryState query={members} label="members">
        {(byRef) => (
          <TableContainer component={Paper} variant="outlined">
            <Table size="small" aria-label="Members">
              <TableHead>
                <TableRow>
                  <TableCell>Name</TableCell>
                  <TableCell>User</TableCell>
                  <TableCell>Email</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {memberRefs.length === 0 && (
                  <TableRow>
                    <TableCell colSpan={3}>
                      <Typography variant="body2" color="text.secondary" sx={{ py: 2, textAlign: 'center' }}>
                        This group has no members.
                      </Typography>
                    </TableCell>
                  </TableRow>
                )}
                {[...memberRefs].sort().map((ref) => {
                  const user = byRef.get(ref) ?? null;
                  const profile = user === null ? {} : profileOf(user);
                  return (
                    <TableRow key={ref} hover>
                      <TableCell>
                        <Box sx={{ display: 'flex', alignItems: 'center', gap: 1.25 }}>
                          <Avatar src={profile.picture} sx={{ width: 28, height: 28, fontSize: 13, bgcolor: 'primary.light' }} aria-hidden="true">
                            {(profile.displayName ?? parseEntityRef(ref).name).slice(0, 1).toUpperCase()}
                          </Avatar>
                          <Link component={RouterLink} to={entityRoute(ref)} underline="hover" sx={{ fontWeight: 600 }}>
                            {profile.displayName ?? parseEntityRef(ref).name}
                          </Link>
                        </Box>
                      </TableCell>
                      <TableCell sx={{ fontFamily: 'monospace', fontSize: 13 }}>{parseEntityRef(ref).name}</TableCell>
                      <TableCell>{profile.email === undefined ? '—' : <Link href={`mailto:${profile.email}`}>{profile.email}</Link>}</TableCell>
                    </TableRow>
                  );
                })}
              </TableBody>
            </Table>
          </TableContainer>
        )}
      </QueryState>
    </Box>
  );
}

export function UserProfile({ entity }: { entity: Entity }) {
  const profile = profileOf(entity);
  const name = profile.displayName ?? entityTitle(entity);
  return (
    <Card component="section" aria-labelledby="user-profile">
      <CardContent sx={{ p: 3, display: 'flex', gap: 2.5, alignItems: 'flex-start' }}>
        <Avatar src={profile.picture} sx={{ width: 64, height: 64, fontSize: 26, bgcolor: 'primary.main' }} aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </Avatar>
        <Box sx={{ minWidth: 0 }}>
          <Typography id="user-profile" variant="h6" component="h2">
            {name}
          </Typography>
          <Typography variant="body2" color="text.secondary" sx={{ fontFamily: 'monospace' }}>
            {entityNameOf(entity).name}
          </Typography>
          {profile.email !== undefined && (
            <Link href={`mailto:${profile.email}`} sx={{ display: 'inline-flex', alignItems: 'center', gap: 0.75, mt: 1 }}>
              <EmailIcon fontSize="small" />
              {profile.email}
            </Link>
          )}
          {entity.metadata.description !== undefined && (
            <Typography variant="body2" sx={{ mt: 1.5 }}>
              {entity.metadata.description}
            </Typography>
          )}
        </Box>
      </CardContent>
    </Card>
  );
}

export function UserGroups({ entity }: { entity: Entity }) {
  const groupRefs = relationTargets(entity, 'memberOf');
  const groups = useEntitiesByRefs(groupRefs);
  return (
    <Box component="section" aria-labelledby="user-groups">
      <Typography id="user-groups" variant="h6" component="h2" sx={{ mb: 1.5 }}>
        Groups ({groupRefs.length})
      </Typography>
      <QueryState query={groups} label="groups">
        {(byRef) => (
          <TableContainer component={Paper} variant="outlined">
            <Table size="small" aria-label="Groups">
              <TableHead>
                <TableRow>
                  <TableCell>Group</TableCell>
                  <TableCell>Type</TableCell>
                  <TableCell>Email</TableCell>
                  <TableCell>Description</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {groupRefs.length === 0 && (
                  <TableRow>
                    <TableCell colSpan={4}>
                      <Typography variant="body2" color="text.secondary" sx={{ py: 2, textAlign: 'center' }}>
                        Not a member of any group.
                      </Typography>
                    </TableCell>
                  </TableRow>
                )}
                {groupRefs.map((ref) => {
                  const group = byRef.get(ref) ?? null;
                  const email = group === null ? undefined : profileOf(group).email;
                  return (
                    <TableRow key={ref} hover>
                      <TableCell>
                        <Link component={RouterLink} to={entityRoute(ref)} underline="hover" sx={{ fontWeight: 600 }}>
                          {group === null ? parseEntityRef(ref).name : (profileOf(group).displayName ?? entityTitle(group))}
                        </Link>
                      </TableCell>
                      <TableCell>{group === null ? '—' : (specString(group, 'type') ?? '—')}</TableCell>
                      <TableCell>{email === undefined ? '—' : <Link href={`mailto:${email}`}>{email}</Link>}</TableCell>
                      <TableCell>
                        <Typography variant="body2" color="text.secondary">
                          {group?.metadata.description ?? ''}
                        </Typography>
                      </TableCell>
                    </TableRow>
                  );
                })}
              </TableBody>
            </Table>
          </TableContainer>
        )}
      </QueryState>
    </Box>
  );
}

/** `spec.profile` of users and groups. */
export function profileOf(entity: Entity): { displayName?: string; email?: string; picture?: string } {
  const profile = entity.spec?.profile;
  if (typeof profile !== 'object' || profile === null) return {};
  const read = (key: string) => {
    const value = (profile as Record<string, unknown>)[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { displayName: read('displayName'), email: read('email'), picture: read('picture') };
}
