import { Fragment, useState } from 'react';
import { Link as RouterLink, Outlet, useLocation, useNavigate } from 'react-router-dom';
import AppBar from '@mui/material/AppBar';
import Avatar from '@mui/material/Avatar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Divider from '@mui/material/Divider';
import Drawer from '@mui/material/Drawer';
import IconButton from '@mui/material/IconButton';
import List from '@mui/material/List';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemIcon from '@mui/material/ListItemIcon';
import ListItemText from '@mui/material/ListItemText';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import useMediaQuery from '@mui/material/useMediaQuery';
import { useTheme } from '@mui/material/styles';
import type { MeView } from '../../../src/kernel/index.js';
import { MenuIcon, PlinthMark } from '../components/icons';
import { GlobalSearch } from '../search/GlobalSearch';
import { useLogout, useMe } from './auth';
import { ErrorBoundary } from './ErrorBoundary';
import { isNavItemActive, navItems, visibleNavGroups, type NavItem } from './nav';

const drawerWidth = 248;

/** The frame around every signed-in screen: app bar, navigation drawer, and the page. */
export function Shell() {
  const me = useMe();
  const theme = useTheme();
  const wide = useMediaQuery(theme.breakpoints.up('md'));
  const [mobileOpen, setMobileOpen] = useState(false);
  const { pathname } = useLocation();

  const navigation = <Navigation me={me} pathname={pathname} onNavigate={() => setMobileOpen(false)} />;

  return (
    <Box sx={{ display: 'flex', minHeight: '100vh' }}>
      <AppBar
        position="fixed"
        color="inherit"
        // Above the permanent drawer on wide screens; the temporary one on small screens covers it like a dialog.
        sx={{ zIndex: (t) => (wide ? t.zIndex.drawer + 1 : t.zIndex.appBar), borderBottom: 1, borderColor: 'divider', bgcolor: 'background.paper' }}
      >
        <Toolbar sx={{ gap: 1.5 }}>
          {!wide && (
            <IconButton edge="start" aria-label="Open navigation" onClick={() => setMobileOpen(true)}>
              <MenuIcon />
            </IconButton>
          )}
          <Box
            component={RouterLink}
            to="/"
            aria-label="Plinth home"
            sx={{ display: 'flex', alignItems: 'center', gap: 1.25, color: 'inherit', textDecoration: 'none' }}
          >
            <PlinthMark />
            <Typography variant="h6" component="span" sx={{ fontWeight: 700, letterSpacing: '-0.01em' }}>
              Plinth
            </Typography>
          </Box>
          <Box sx={{ flex: 1, display: 'flex', justifyContent: 'center', px: { xs: 0, md: 2 } }}>
            <GlobalSearch />
          </Box>
          <UserMenu me={me} />
        </Toolbar>
      </AppBar>

      {wide ? (
        <Drawer
          variant="permanent"
          sx={{
            width: drawerWidth,
            flexShrink: 0,
            '& .MuiDrawer-paper': { width: drawerWidth, boxSizing: 'border-box', bgcolor: 'background.paper' },
          }}
        >
          <Toolbar />
          {navigation}
        </Drawer>
      ) : (
        <Drawer
          variant="temporary"
          open={mobileOpen}
          onClose={() => setMobileOpen(false)}
          sx={{ '& .MuiDrawer-paper': { width: drawerWidth, boxSizing: 'border-box' } }}
        >
          <Toolbar sx={{ gap: 1.25, borderBottom: 1, borderColor: 'divider' }}>
            <PlinthMark />
            <Typography variant="h6" component="span" sx={{ fontWeight: 700 }}>
              Plinth
            </Typography>
          </Toolbar>
          {navigation}
        </Drawer>
      )}

      <Box component="main" sx={{ flex: 1, minWidth: 0, px: { xs: 2, sm: 3, md: 4 }, pb: 6 }}>
        <Toolbar />
        <Box sx={{ maxWidth: 1280, mx: 'auto', pt: 4 }}>
          {/* Keyed by path: moving to another page clears a crashed one. */}
          <ErrorBoundary key={pathname}>
            <Outlet />
          </ErrorBoundary>
        </Box>
      </Box>
    </Box>
  );
}

function UserMenu({ me }: { me: MeView }) {
  const logout = useLogout();
  const navigate = useNavigate();
  const initials = (me.user.displayName || me.user.username).slice(0, 1).toUpperCase();

  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1.5 }}>
      <Avatar sx={{ width: 32, height: 32, bgcolor: 'primary.main', fontSize: 15 }} aria-hidden="true">
        {initials}
      </Avatar>
      <Box sx={{ display: { xs: 'none', sm: 'block' }, lineHeight: 1.2 }}>
        <Typography variant="body2" sx={{ fontWeight: 600 }}>
          {me.user.displayName || me.user.username}
        </Typography>
        <Typography variant="caption" color="text.secondary" component="div">
          <span>{me.user.username}</span>
          {' · '}
          <span>{me.user.role}</span>
        </Typography>
      </Box>
      <Button
        variant="outlined"
        size="small"
        loading={logout.isPending}
        onClick={() => logout.mutate(undefined, { onSettled: () => void navigate('/login', { replace: true }) })}
      >
        Sign out
      </Button>
    </Box>
  );
}

function Navigation({ me, pathname, onNavigate }: { me: MeView; pathname: string; onNavigate: () => void }) {
  const groups = visibleNavGroups(navItems, me);
  return (
    <Box component="nav" aria-label="Main" sx={{ px: 1.5, py: 2, overflowY: 'auto' }}>
      {groups.map((group, index) => (
        <Fragment key={group[0]?.group ?? index}>
          {index > 0 && <Divider sx={{ my: 1.5, mx: 1 }} />}
          <List disablePadding sx={{ display: 'grid', gap: 0.25 }}>
            {group.map((item) => (
              <NavEntry key={item.label} item={item} pathname={pathname} onNavigate={onNavigate} depth={0} />
            ))}
          </List>
        </Fragment>
      ))}
    </Box>
  );
}

function NavEntry({ item, pathname, onNavigate, depth }: { item: NavItem; pathname: string; onNavigate: () => void; depth: number }) {
  const active = isNavItemActive(item, pathname);
  const isParent = item.children !== undefined;
  const Icon = item.icon;
  const linkProps = item.external
    ? ({ component: 'a', href: item.to } as const)
    : ({ component: RouterLink, to: item.to, onClick: onNavigate } as const);

  return (
    <>
      <ListItemButton
        {...linkProps}
        selected={active && !isParent}
        aria-current={active && !isParent ? 'page' : undefined}
        sx={{ pl: 1.5 + depth * 2.5, py: depth > 0 ? 0.5 : 0.75, color: active && isParent ? 'primary.dark' : undefined }}
      >
        {Icon !== undefined && (
          <ListItemIcon sx={{ minWidth: 34, color: active ? 'primary.main' : 'text.secondary' }}>
            <Icon fontSize="small" />
          </ListItemIcon>
        )}
        <ListItemText
          primary={item.label}
          slotProps={{ primary: { variant: 'body2', sx: { fontWeight: active || isParent ? 600 : 500 } } }}
        />
      </ListItemButton>
      {item.children?.map((child) => (
        <NavEntry key={child.label} item={child} pathname={pathname} onNavigate={onNavigate} depth={depth + 1} />
      ))}
    </>
  );
}
