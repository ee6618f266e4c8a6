import type { ComponentType } from 'react';
import type { SvgIconProps } from '@mui/material/SvgIcon';
import type { MeView } from '../../../src/kernel/index.js';
import { AddCircleIcon, CategoryIcon, DocIcon, HistoryIcon, HomeIcon, KeyIcon, MenuBookIcon, PeopleIcon, RocketLaunchIcon, ShieldIcon, VerifiedUserIcon } from '../components/icons';
import { DeliveryIcon } from '../delivery/icons';
import { PipelineIcon } from '../pipelines/icons';
import { ResourcesIcon } from '../resources/icons';
import { FindingsIcon } from '../security/icons';
import { isPlatformAdmin } from './auth';

export interface NavItem {
  label: string;
  /** An in-app route, or with `external` a server page opened by a plain link (the API reference). */
  to: string;
  icon?: ComponentType<SvgIconProps>;
  external?: boolean;
  /** Items of one group sit together, groups are divided by a rule, in the order they first appear. */
  group: 'platform' | 'account' | 'admin' | 'help';
  /** Who sees the entry; everyone signed in when absent. The route itself checks again. */
  visibleTo?: (me: MeView) => boolean;
  children?: NavItem[];
}

/**
 * The portal's areas. A layer adds its screens by adding one item here and its routes in App.tsx,
 * e.g. `{ label: 'Catalog', to: '/catalog', icon: CatalogIcon, group: 'platform' }`.
 */
export const navItems: NavItem[] = [
  { label: 'Home', to: '/', icon: HomeIcon, group: 'platform' },
  { label: 'Catalog', to: '/catalog', icon: CategoryIcon, group: 'platform' },
  { label: 'Create', to: '/create', icon: RocketLaunchIcon, group: 'platform' },
  { label: 'Docs', to: '/docs', icon: MenuBookIcon, group: 'platform' },
  { label: 'Runs', to: '/runs', icon: PipelineIcon, group: 'platform' },
  { label: 'Delivery', to: '/delivery', icon: DeliveryIcon, group: 'platform' },
  { label: 'Resources', to: '/resources', icon: ResourcesIcon, group: 'platform' },
  { label: 'Register', to: '/catalog/register', icon: AddCircleIcon, group: 'platform' },
  { label: 'Security', to: '/security', icon: FindingsIcon, group: 'platform' },
  { label: 'Guardrails', to: '/guardrails', icon: VerifiedUserIcon, group: 'platform' },
  { label: 'API tokens', to: '/settings/tokens', icon: KeyIcon, group: 'account' },
  {
    label: 'Admin',
    to: '/admin/users',
    icon: ShieldIcon,
    group: 'admin',
    visibleTo: isPlatformAdmin,
    children: [
      { label: 'Users', to: '/admin/users', icon: PeopleIcon, group: 'admin' },
      { label: 'All tokens', to: '/admin/tokens', icon: KeyIcon, group: 'admin' },
      { label: 'Audit log', to: '/admin/audit', icon: HistoryIcon, group: 'admin' },
    ],
  },
  { label: 'API reference', to: '/api/reference', icon: DocIcon, external: true, group: 'help' },
];

/** The entries a user sees, grouped for rendering. */
export function visibleNavGroups(items: NavItem[], me: MeView): NavItem[][] {
  const groups = new Map<NavItem['group'], NavItem[]>();
  for (const item of items) {
    if (item.visibleTo !== undefined && !item.visibleTo(me)) continue;
    const group = groups.get(item.group) ?? [];
    group.push(item);
    groups.set(item.group, group);
  }
  return [...groups.values()];
}

/**
 * Whether a nav entry is the current page: '/' only on the home page, other routes by prefix, and the
 * most specific entry wins (on /catalog/register, Register is current and Catalog is not).
 */
export function isNavItemActive(item: NavItem, pathname: string, items: NavItem[] = navItems): boolean {
  if (item.external) return false;
  if (item.children !== undefined) return item.children.some((child) => isNavItemActive(child, pathname, items));
  if (!isUnder(item.to, pathname)) return false;
  return !flatten(items).some((other) => !other.external && other.to.length > item.to.length && isUnder(other.to, pathname));
}

function isUnder(route: string, pathname: string): boolean {
  if (route === '/') return pathname === '/';
  return pathname === route || pathname.startsWith(`${route}/`);
}

function flatten(items: NavItem[]): NavItem[] {
  return items.flatMap((item) => [item, ...flatten(item.children ?? [])]);
}
