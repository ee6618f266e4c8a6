import { useState, type FormEvent } from 'react';
import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import InputAdornment from '@mui/material/InputAdornment';
import Link from '@mui/material/Link';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { SearchIcon } from '../components/icons';
import { PageHeader } from '../components/PageHeader';
import { LoadMore } from '../components/LoadMore';
import { QueryState } from '../components/QueryState';
import { searchTypeLabel, searchTypes, useOwnerOptions, useSearchResults, type SearchResult, type SearchType } from './api';
import { resultContext } from './GlobalSearch';
import { HighlightedText } from './HighlightedText';

const kinds = ['Component', 'API', 'System', 'Domain', 'Resource', 'Group', 'User', 'Template', 'Location'];
const pageLimit = 10;

/** `/search?q=…&type=techdocs&kind=Component&owner=group:default/team-a`: every result, filtered and paged. */
export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const type = (searchTypes.find((t) => t.type === params.get('type'))?.type ?? '') as SearchType | '';
  const kind = params.get('kind') ?? '';
  const owner = params.get('owner') ?? '';
  const results = useSearchResults({ term: q, types: type === '' ? [] : [type], filters: { kind, owner }, pageLimit });
  const owners = useOwnerOptions();

  const set = (change: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(change)) {
      if (value === '') next.delete(key);
      else next.set(key, value);
    }
    setParams(next);
  };

  return (
    <>
      <PageHeader title="Search" subtitle="Entities of the catalog and pages of the documentation." />
      <SearchForm key={q} initial={q} onSearch={(term) => set({ q: term })} />

      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, flexWrap: 'wrap', borderBottom: 1, borderColor: 'divider', mb: 2 }}>
        <Tabs value={type} onChange={(_e, value: string) => set({ type: value })} aria-label="Result types" sx={{ flex: 1, minWidth: 300 }}>
          <Tab value="" label="All" />
          {searchTypes.map((t) => (
            <Tab key={t.type} value={t.type} label={t.label} />
          ))}
        </Tabs>
        <Box sx={{ display: 'flex', gap: 1.5, pb: 1 }}>
          <TextField select label="Kind" value={kind} onChange={(e) => set({ kind: e.target.value })} sx={{ width: 160 }} slotProps={{ inputLabel: { shrink: true }, select: { displayEmpty: true } }}>
            <MenuItem value="">Any kind</MenuItem>
            {kinds.map((k) => (
              <MenuItem key={k} value={k}>
                {k}
              </MenuItem>
            ))}
          </TextField>
          <TextField select label="Owner" value={owner} onChange={(e) => set({ owner: e.target.value })} sx={{ width: 200 }} slotProps={{ inputLabel: { shrink: true }, select: { displayEmpty: true } }}>
            <MenuItem value="">Any owner</MenuItem>
            {owner !== '' && !(owners.data ?? []).includes(owner) && <MenuItem value={owner}>{shortOwner(owner)}</MenuItem>}
            {(owners.data ?? []).map((o) => (
              <MenuItem key={o} value={o}>
                {shortOwner(o)}
              </MenuItem>
            ))}
          </TextField>
        </Box>
      </Box>

      {q.trim() === '' ? (
        <Paper variant="outlined" sx={{ p: 4, textAlign: 'center' }}>
          <Typography color="text.secondary">Type a word to search the catalog and the docs.</Typography>
        </Paper>
      ) : (
        <QueryState query={results} label="search results">
          {(data) => {
            const items = data.pages.flatMap((page) => page.results);
            const total = data.pages[0]?.numberOfResults;
            return (
              <>
                <Typography variant="body2" color="text.secondary" sx={{ mb: 1.5 }} role="status">
                  {total !== undefined ? `${total} ${total === 1 ? 'result' : 'results'}` : `${items.length} results`} for “{q}”
                </Typography>
                {items.length === 0 ? (
                  <Paper variant="outlined" sx={{ p: 4, textAlign: 'center' }}>
                    <Typography color="text.secondary">Nothing matches. Try another word, or fewer filters.</Typography>
                  </Paper>
                ) : (
                  <Paper variant="outlined" component="ol" aria-label="Search results" sx={{ listStyle: 'none', m: 0, p: 0 }}>
                    {items.map((result, i) => (
                      <ResultItem key={`${result.document.location}-${i}`} result={result} first={i === 0} />
                    ))}
                  </Paper>
                )}
                <LoadMore query={results} label="Show more results" />
              </>
            );
          }}
        </QueryState>
      )}
    </>
  );
}

function SearchForm({ initial, onSearch }: { initial: string; onSearch: (term: string) => void }) {
  const [draft, setDraft] = useState(initial);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(draft.trim());
  };
  return (
    <Box component="form" role="search" aria-label="Search" onSubmit={submit} sx={{ display: 'flex', gap: 1.5, mb: 2, maxWidth: 720 }}>
      <TextField
        type="search"
        label="Search for"
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        fullWidth
        sx={{ bgcolor: 'background.paper' }}
        slotProps={{
          inputLabel: { shrink: true },
          input: {
            startAdornment: (
              <InputAdornment position="start">
                <SearchIcon fontSize="small" />
              </InputAdornment>
            ),
          },
        }}
      />
      <Button type="submit" variant="contained">
        Search
      </Button>
    </Box>
  );
}

function ResultItem({ result, first }: { result: SearchResult; first: boolean }) {
  const { document: d, highlight } = result;
  const text = highlight?.fields.text ?? d.text;
  return (
    <Box component="li" sx={{ px: 2.5, py: 2, borderTop: first ? 0 : 1, borderColor: 'divider' }}>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, flexWrap: 'wrap' }}>
        <Link component={RouterLink} to={d.location} underline="hover" sx={{ fontWeight: 650, fontSize: 16 }}>
          <HighlightedText text={highlight?.fields.title ?? d.title} preTag={highlight?.preTag} postTag={highlight?.postTag} />
        </Link>
        <Chip size="small" label={searchTypeLabel(result.type)} color={result.type === 'techdocs' ? 'secondary' : 'primary'} variant="outlined" sx={{ height: 20, fontSize: 11.5 }} />
      </Box>
      <Typography variant="caption" color="text.secondary" component="div" sx={{ mt: 0.25 }}>
        {resultContext(result)}
        {d.lifecycle !== undefined ? ` · ${d.lifecycle}` : ''}
      </Typography>
      {text !== '' && (
        <Typography variant="body2" color="text.secondary" sx={{ mt: 0.75, display: '-webkit-box', WebkitLineClamp: 3, WebkitBoxOrient: 'vertical', overflow: 'hidden' }}>
          <HighlightedText text={text} preTag={highlight?.preTag} postTag={highlight?.postTag} />
        </Typography>
      )}
    </Box>
  );
}

function shortOwner(ref: string): string {
  return ref.replace(/^group:(default\/)?/, '');
}
