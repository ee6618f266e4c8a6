import { Link as RouterLink } from 'react-router-dom';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import { entityRoute, humanizeEntityRef } from '../components/entity-refs';

const lifecycleColor: Record<string, 'success' | 'warning' | 'default'> = {
  production: 'success',
  experimental: 'warning',
  deprecated: 'default',
};

export function LifecycleChip({ lifecycle }: { lifecycle: string | undefined }) {
  if (lifecycle === undefined) return <>—</>;
  return <Chip size="small" variant="outlined" color={lifecycleColor[lifecycle.toLowerCase()] ?? 'default'} label={lifecycle} />;
}

export function TagList({ tags, max = 4 }: { tags: string[] | undefined; max?: number }) {
  if (tags === undefined || tags.length === 0) return null;
  const shown = tags.slice(0, max);
  return (
    <Box component="ul" aria-label="Tags" sx={{ display: 'flex', gap: 0.5, flexWrap: 'wrap', listStyle: 'none', p: 0, m: 0 }}>
      {shown.map((tag) => (
        <li key={tag}>
          <Chip size="small" label={tag} sx={{ height: 22, fontSize: 12, bgcolor: '#eef1f8' }} />
        </li>
      ))}
      {tags.length > max && (
        <li>
          <Chip size="small" label={`+${tags.length - max}`} title={tags.slice(max).join(', ')} sx={{ height: 22, fontSize: 12 }} />
        </li>
      )}
    </Box>
  );
}

/** A link to another entity, by ref, written short (`team-a` for a group when a group is expected). */
export function EntityRefLink({ entityRef, defaultKind, label }: { entityRef: string | undefined; defaultKind?: string; label?: string }) {
  if (entityRef === undefined) return <>—</>;
  return (
    <Link component={RouterLink} to={entityRoute(entityRef)} underline="hover" sx={{ fontWeight: 500 }}>
      {label ?? humanizeEntityRef(entityRef, { defaultKind })}
    </Link>
  );
}
