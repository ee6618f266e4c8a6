import type { ReactNode } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { entityRoute, entityTitle, humanizeEntityRef, parseEntityRef, relationTargets, specString } from '../components/entity-refs';
import { QueryState } from '../components/QueryState';
import { useEntitiesByRefs } from './api';
import { EntityRefLink, LifecycleChip, TagList } from './EntityChips';
import { MembersTable, profileOf, UserGroups, UserProfile } from './EntityPeople';
import { groupRelations, relatedRefs, relationColor } from './relations';

/** The Overview tab: what the entity is, who owns it and everything it relates to; members for groups, groups for users. */
export function EntityOverview({ entity }: { entity: Entity }) {
  const kind = entity.kind.toLowerCase();
  return (
    <Box sx={{ display: 'grid', gap: 3, gridTemplateColumns: { xs: '1fr', lg: 'minmax(0, 5fr) minmax(0, 7fr)' }, alignItems: 'start' }}>
      <Box sx={{ display: 'grid', gap: 3 }}>
        {kind === 'user' ? <UserProfile entity={entity} /> : <AboutCard entity={entity} />}
      </Box>
      <RelationsCard entity={entity} />
      {kind === 'group' && (
        <Box sx={{ gridColumn: '1 / -1' }}>
          <MembersTable entity={entity} />
        </Box>
      )}
      {kind === 'user' && (
        <Box sx={{ gridColumn: '1 / -1' }}>
          <UserGroups entity={entity} />
        </Box>
      )}
    </Box>
  );
}

function AboutCard({ entity }: { entity: Entity }) {
  const owner = relationTargets(entity, 'ownedBy')[0];
  const partOf = relationTargets(entity, 'partOf');
  const parent = relationTargets(entity, 'childOf')[0];
  const profile = profileOf(entity);
  const location = entity.metadata.annotations?.['backstage.io/managed-by-location'];
  const targets = [specString(entity, 'target'), ...stringList(entity.spec?.targets)].filter((t): t is string => t !== undefined);

  return (
    <Card component="section" aria-labelledby="entity-about">
      <CardContent sx={{ p: 3 }}>
        <Typography id="entity-about" variant="h6" component="h2" gutterBottom>
          About
        </Typography>
        <Typography variant="body2" color={entity.metadata.description ? 'text.primary' : 'text.secondary'} sx={{ mb: 2 }}>
          {entity.metadata.description ?? 'No description.'}
        </Typography>
        <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 3, rowGap: 1.25, m: 0 }}>
          {owner !== undefined && (
            <Fact label="Owner">
              <EntityRefLink entityRef={owner} defaultKind="group" />
            </Fact>
          )}
          {partOf.map((ref) => (
            <Fact key={ref} label={capitalize(parseEntityRef(ref).kind)}>
              <EntityRefLink entityRef={ref} defaultKind={parseEntityRef(ref).kind} />
            </Fact>
          ))}
          {parent !== undefined && (
            <Fact label="Parent group">
              <EntityRefLink entityRef={parent} defaultKind="group" />
            </Fact>
          )}
          <Fact label="Kind">{entity.kind}</Fact>
          {specString(entity, 'type') !== undefined && <Fact label="Type">{specString(entity, 'type')}</Fact>}
          {specString(entity, 'lifecycle') !== undefined && (
            <Fact label="Lifecycle">
              <LifecycleChip lifecycle={specString(entity, 'lifecycle')} />
            </Fact>
          )}
          {profile.displayName !== undefined && <Fact label="Display name">{profile.displayName}</Fact>}
          {profile.email !== undefined && (
            <Fact label="Email">
              <Link href={`mailto:${profile.email}`}>{profile.email}</Link>
            </Fact>
          )}
          <Fact label="Namespace">{entity.metadata.namespace ?? 'default'}</Fact>
          {(entity.metadata.tags ?? []).length > 0 && (
            <Fact label="Tags">
              <TagList tags={entity.metadata.tags} max={12} />
            </Fact>
          )}
          {targets.length > 0 && (
            <Fact label="Targets">
              {targets.map((t) => (
                <Box key={t} sx={{ fontFamily: 'monospace', fontSize: 12.5, wordBreak: 'break-all' }}>
                  {t}
                </Box>
              ))}
            </Fact>
          )}
          {location !== undefined && (
            <Fact label="Managed by">
              <Box component="span" sx={{ fontFamily: 'monospace', fontSize: 12.5, wordBreak: 'break-all', fontWeight: 400 }}>
                {location}
              </Box>
            </Fact>
          )}
        </Box>
      </CardContent>
    </Card>
  );
}

function RelationsCard({ entity }: { entity: Entity }) {
  const groups = groupRelations(entity);
  const related = useEntitiesByRefs(relatedRefs(entity));
  return (
    <Card component="section" aria-labelledby="entity-relations">
      <CardContent sx={{ p: 3 }}>
        <Typography id="entity-relations" variant="h6" component="h2" gutterBottom>
          Relations
        </Typography>
        {groups.length === 0 ? (
          <Typography variant="body2" color="text.secondary">
            No relations to other entities.
          </Typography>
        ) : (
          <QueryState query={related} label="related entities">
            {(byRef) => (
              <Box sx={{ display: 'grid', gap: 2 }}>
                {groups.map((group) => (
                  <Box key={group.type} component="section" aria-label={group.label}>
                    <Typography
                      variant="overline"
                      component="h3"
                      sx={{ fontWeight: 700, lineHeight: 1.8, color: relationColor(group.type), display: 'flex', alignItems: 'center', gap: 1 }}
                    >
                      {group.label}
                      <Box component="span" sx={{ color: 'text.secondary', fontWeight: 500 }}>
                        {group.targetRefs.length}
                      </Box>
                    </Typography>
                    <Box component="ul" sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 0.5 }}>
                      {group.targetRefs.map((ref) => (
                        <RelatedEntry key={ref} entityRef={ref} entity={byRef.get(ref) ?? null} />
                      ))}
                    </Box>
                  </Box>
                ))}
              </Box>
            )}
          </QueryState>
        )}
      </CardContent>
    </Card>
  );
}

function RelatedEntry({ entityRef, entity }: { entityRef: string; entity: Entity | null }) {
  const { kind, name } = parseEntityRef(entityRef);
  const type = entity === null ? undefined : specString(entity, 'type');
  return (
    <Box component="li" sx={{ display: 'flex', alignItems: 'baseline', gap: 1, flexWrap: 'wrap' }}>
      <Link component={RouterLink} to={entityRoute(entityRef)} underline="hover" sx={{ fontWeight: 600, fontSize: 15 }}>
        {entity === null ? name : entityTitle(entity)}
      </Link>
      <Typography variant="caption" color="text.secondary">
        {entity === null ? `${kind} · not in the catalog` : `${entity.kind}${type === undefined ? '' : ` · ${type}`}`}
        {entity !== null && entityTitle(entity) !== name ? ` · ${humanizeEntityRef(entityRef)}` : ''}
      </Typography>
    </Box>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <Typography component="dt" variant="body2" color="text.secondary">
        {label}
      </Typography>
      <Typography component="dd" variant="body2" sx={{ m: 0, fontWeight: 500, minWidth: 0 }}>
        {children}
      </Typography>
    </>
  );
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
