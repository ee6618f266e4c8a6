import { useEffect, useMemo, useRef, type MouseEvent } from 'react';
import { Link as RouterLink, useLocation, useNavigate } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Link from '@mui/material/Link';
import List from '@mui/material/List';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemText from '@mui/material/ListItemText';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { isApiError } from '../app/http';
import type { EntityName } from '../components/entity-refs';
import { OpenInNewIcon } from '../components/icons';
import { ErrorNotice, Loading, QueryState } from '../components/QueryState';
import { useDocsPage, useDocsSite, type DocsNavItem, type DocsPage, type DocsSiteView } from './api';
import { navContains, pageForRoute, pageRoute, resolvePageLink } from './routes';
import './docs.css';

/**
 * An entity's docs site: the nav tree, the page and its table of contents. `base` is the route the
 * site lives under and `route` the rest of the URL (`guides/setup`), so the same viewer serves
 * `/docs/…` and the entity page's Docs tab.
 */
export function DocsViewer({ entity, base, route }: { entity: EntityName; base: string; route: string }) {
  const site = useDocsSite(entity);
  if (site.data === undefined && site.error !== null && isApiError(site.error, 404)) {
    return (
      <Alert severity="info">
        <AlertTitle>No documentation to show</AlertTitle>
        The docs of this entity are not available: {site.error.message}
      </Alert>
    );
  }
  return (
    <QueryState query={site} label="documentation">
      {(data) => <DocsSite entity={entity} site={data} base={base} route={route} />}
    </QueryState>
  );
}

function DocsSite({ entity, site, base, route }: { entity: EntityName; site: DocsSiteView; base: string; route: string }) {
  const pagePath = pageForRoute(route, site.pages);
  const page = useDocsPage(entity, pagePath);

  return (
    <Box sx={{ display: 'grid', gap: 2.5, gridTemplateColumns: { xs: '1fr', md: '200px minmax(0, 1fr)', lg: '200px minmax(0, 1fr) 180px' }, alignItems: 'start' }}>
      <Box
        component="nav"
        aria-label="Docs navigation"
        sx={{ position: { md: 'sticky' }, top: { md: 88 }, maxHeight: { md: 'calc(100vh - 110px)' }, overflowY: 'auto' }}
      >
        <Typography variant="subtitle2" component="p" sx={{ px: 1.5, mb: 0.5, color: 'text.primary' }}>
          {site.siteName}
        </Typography>
        <NavTree items={site.nav.length > 0 ? site.nav : site.pages.map((p) => ({ title: p.title, path: p.path }))} base={base} current={pagePath} depth={0} />
      </Box>

      <Paper variant="outlined" sx={{ p: { xs: 2.5, md: 3.5 }, minWidth: 0 }}>
        {site.warnings.length > 0 && (
          <Alert severity="warning" sx={{ mb: 3 }}>
            <details>
              <summary style={{ cursor: 'pointer' }}>
                {site.warnings.length === 1 ? '1 problem' : `${site.warnings.length} problems`} while building these docs
              </summary>
              <Box component="ul" sx={{ m: 0, mt: 1, pl: 2.5 }}>
                {site.warnings.map((warning) => (
                  <li key={warning}>{warning}</li>
                ))}
              </Box>
            </details>
          </Alert>
        )}
        {pagePath === undefined ? (
          <Alert severity="warning">
            <AlertTitle>Page not found</AlertTitle>
            {site.siteName} has no page “{route}”.{' '}
            <Link component={RouterLink} to={base}>
              Go to the first page
            </Link>
          </Alert>
        ) : page.data === undefined ? (
          page.error !== null ? (
            <ErrorNotice error={page.error} onRetry={() => void page.refetch()} />
          ) : (
            <Loading label="Loading page" />
          )
        ) : (
          <PageContent page={page.data} base={base} />
        )}
      </Paper>

      {page.data !== undefined && page.data.headings.length > 0 && <TableOfContents page={page.data} />}
    </Box>
  );
}

function NavTree({ items, base, current, depth }: { items: DocsNavItem[]; base: string; current: string | undefined; depth: number }) {
  return (
    <List dense disablePadding sx={{ display: 'grid', gap: 0.25 }}>
      {items.map((item, index) => {
        const key = `${item.title}-${item.path ?? item.url ?? index}`;
        const pad = 1.5 + depth * 1.5;
        if (item.children !== undefined && item.children.length > 0) {
          return (
            <Box component="li" key={key} sx={{ listStyle: 'none' }}>
              <Typography
                variant="caption"
                component="p"
                sx={{ pl: pad, pt: 1, pb: 0.25, fontWeight: 700, color: current !== undefined && navContains(item, current) ? 'primary.dark' : 'text.secondary', textTransform: 'uppercase', letterSpacing: '0.04em' }}
              >
                {item.title}
              </Typography>
              <NavTree items={item.children} base={base} current={current} depth={depth + 1} />
            </Box>
          );
        }
        if (item.url !== undefined) {
          return (
            <ListItemButton key={key} component="a" href={item.url} target="_blank" rel="noopener noreferrer" sx={{ pl: pad, py: 0.25 }}>
              <ListItemText primary={item.title} slotProps={{ primary: { variant: 'body2' } }} />
              <OpenInNewIcon sx={{ fontSize: 14, color: 'text.secondary' }} />
            </ListItemButton>
          );
        }
        const active = item.path === current;
        return (
          <ListItemButton
            key={key}
            component={RouterLink}
            to={pageRoute(base, item.path ?? '')}
            selected={active}
            aria-current={active ? 'page' : undefined}
            sx={{ pl: pad, py: 0.25 }}
          >
            <ListItemText primary={item.title} slotProps={{ primary: { variant: 'body2', sx: { fontWeight: active ? 600 : 400 } } }} />
          </ListItemButton>
        );
      })}
    </List>
  );
}

function TableOfContents({ page }: { page: DocsPage }) {
  const navigate = useNavigate();
  return (
    <Box
      component="nav"
      aria-label="On this page"
      sx={{ display: { xs: 'none', lg: 'block' }, position: 'sticky', top: 88, maxHeight: 'calc(100vh - 110px)', overflowY: 'auto', borderLeft: 1, borderColor: 'divider', pl: 2 }}
    >
      <Typography variant="caption" component="p" sx={{ fontWeight: 700, color: 'text.secondary', textTransform: 'uppercase', letterSpacing: '0.04em', mb: 1 }}>
        On this page
      </Typography>
      <Box component="ul" sx={{ listStyle: 'none', m: 0, p: 0, display: 'grid', gap: 0.75 }}>
        {page.headings.map((heading) => (
          <Box component="li" key={heading.id} sx={{ pl: heading.level > 2 ? 1.5 : 0 }}>
            <Link
              href={`#${heading.id}`}
              underline="hover"
              variant="body2"
              color="text.secondary"
              onClick={(event) => {
                event.preventDefault();
                void navigate({ hash: heading.id }, { replace: true });
              }}
              sx={{ display: 'block', lineHeight: 1.4, fontSize: heading.level > 2 ? 13 : 13.5, overflowWrap: 'anywhere' }}
            >
              {heading.text}
            </Link>
          </Box>
        ))}
      </Box>
    </Box>
  );
}

/**
 * The page's sanitized HTML. Links between pages are rewritten to portal routes (so they also open in a
 * new tab) and followed inside the portal; in-page anchors scroll.
 */
function PageContent({ page, base }: { page: DocsPage; base: string }) {
  const navigate = useNavigate();
  const { hash } = useLocation();
  const ref = useRef<HTMLDivElement>(null);
  const html = useMemo(() => rewriteLinks(page.html, page.path, base), [page.html, page.path, base]);

  useEffect(() => {
    const container = ref.current;
    if (container === null) return;
    const id = decodeURIComponent(hash.replace(/^#/, ''));
    const target = id === '' ? null : document.getElementById(id);
    if (target !== null) target.scrollIntoView({ block: 'start' });
    else if (container.getBoundingClientRect().top < 0) window.scrollTo({ top: 0 });
  }, [html, hash]);

  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as HTMLElement).closest('a');
    if (anchor === null || anchor.target === '_blank') return;
    const href = anchor.getAttribute('href');
    if (href === null) return;
    if (href.startsWith('#')) {
      event.preventDefault();
      void navigate({ hash: href.slice(1) }, { replace: true });
      return;
    }
    const url = new URL(anchor.href, window.location.href);
    if (url.origin === window.location.origin && (url.pathname === base || url.pathname.startsWith(`${base}/`))) {
      event.preventDefault();
      void navigate(`${url.pathname}${url.hash}`);
    }
  };

  return (
    // The HTML comes sanitized from the server (its tag, class and URL allow-lists); only hrefs are rewritten here.
    // Clicks bubble up from real links, which keep their own keyboard behaviour.
    <article aria-label={page.title}>
      <div ref={ref} className="plinth-docs" onClick={onClick} dangerouslySetInnerHTML={{ __html: html }} />
    </article>
  );
}

/** Rewrites links between pages to portal routes; `data-docs-path` names the target page when the server knows it. */
export function rewriteLinks(html: string, pagePath: string, base: string): string {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  for (const anchor of Array.from(doc.body.querySelectorAll('a[href]'))) {
    const href = anchor.getAttribute('href') ?? '';
    const known = anchor.getAttribute('data-docs-path');
    const resolved = resolvePageLink(pagePath, href);
    if (resolved === undefined) continue;
    // Links to other files of the docs dir already point at the asset route; only pages are rewritten.
    const path = known ?? resolved.path;
    anchor.setAttribute('href', pageRoute(base, path, resolved.fragment));
  }
  return doc.body.innerHTML;
}
