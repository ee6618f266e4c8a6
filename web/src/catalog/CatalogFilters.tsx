import { useEffect, useState } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Chip from '@mui/material/Chip';
import InputAdornment from '@mui/material/InputAdornment';
import ListItemText from '@mui/material/ListItemText';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useDebouncedValue } from '../components/debounce';
import { humanizeEntityRef } from '../components/entity-refs';
import { SearchIcon } from '../components/icons';
import { useFacets } from './api';
import { buildFilter, facetFilters, type CatalogListState, type FacetParam } from './filters';

/** The filters above the entity table: text search, kind and the facet multi-selects, all kept in the URL. */

/** The search box keeps what is typed; the URL (and the query) follow once typing pauses. */
function SearchBox({ text, onSearch }: { text: string; onSearch: (text: string) => void }) {
  const [draft, setDraft] = useState(text);
  const [seen, setSeen] = useState(text);
  // The URL changed from outside (a link, the back button): show its search.
  if (text !== seen) {
    setSeen(text);
    if (text !== draft.trim()) setDraft(text);
  }
  const debounced = useDebouncedValue(draft, 350);
  useEffect(() => {
    if (debounced.trim() !== text) onSearch(debounced.trim());
    // Only a settled draft searches; `text` changing from outside (a link) must not re-run it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);
  return (
    <TextField
      type="search"
      label="Search the catalog"
      placeholder="Name, title or description"
      value={draft}
      onChange={(event) => setDraft(event.target.value)}
      fullWidth
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
  );
}

export function FilterBar({ state, update }: { state: CatalogListState; update: (change: Partial<CatalogListState>, options?: { replace?: boolean }) => void }) {
  const kinds = useFacets(['kind'], buildFilter({ kind: '', selected: state.selected }));
  const kindOptions = kinds.data?.kind ?? [];
  const select = (param: FacetParam, values: string[]) => update({ selected: { ...state.selected, [param]: values } });
  const chosen = facetFilters.flatMap((f) => state.selected[f.param].map((value) => ({ filter: f, value })));

  return (
    <Paper variant="outlined" component="section" aria-label="Filters" sx={{ p: 2, mb: 2 }}>
      <Box
        sx={{
          display: 'grid',
          gap: 1.5,
          gridTemplateColumns: { xs: '1fr', sm: 'repeat(2, minmax(0, 1fr))', lg: 'minmax(200px, 1.3fr) repeat(5, minmax(0, 1fr))' },
        }}
      >
        <Box sx={{ gridColumn: { sm: '1 / -1', lg: 'auto' } }}>
          <SearchBox text={state.text} onSearch={(text) => update({ text }, { replace: true })} />
        </Box>
        <TextField
          select
          label="Kind"
          value={state.kind === '' ? 'all' : state.kind}
          onChange={(event) => {
            const kind = event.target.value === 'all' ? '' : event.target.value;
            // Types belong to a kind (a component's "service", an API's "openapi"): they do not carry over.
            update({ kind, selected: { ...state.selected, type: [] } });
          }}
          slotProps={{
            inputLabel: { shrink: true },
            select: { renderValue: (value) => (value === 'all' ? 'All kinds' : (kindOptions.find((k) => k.value.toLowerCase() === value)?.value ?? capitalize(String(value)))) },
          }}
          fullWidth
        >
          <MenuItem value="all">All kinds</MenuItem>
          {/* The chosen kind stays listed while the facet loads. */}
          {state.kind !== '' && !kindOptions.some((k) => k.value.toLowerCase() === state.kind) && (
            <MenuItem value={state.kind}>{capitalize(state.kind)}</MenuItem>
          )}
          {kindOptions.map((k) => (
            <MenuItem key={k.value} value={k.value.toLowerCase()}>
              <Box sx={{ display: 'flex', width: '100%', justifyContent: 'space-between', gap: 2 }}>
                <span>{k.value}</span>
                <Typography component="span" variant="body2" color="text.secondary">
                  {k.count}
                </Typography>
              </Box>
            </MenuItem>
          ))}
        </TextField>
        {facetFilters.map((f) => (
          <FacetSelect key={f.param} state={state} param={f.param} field={f.field} label={f.label} onChange={(values) => select(f.param, values)} />
        ))}
      </Box>
      {chosen.length > 0 && (
        <Box component="ul" aria-label="Active filters" sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center', listStyle: 'none', p: 0, m: 0, mt: 1.5 }}>
          {chosen.map(({ filter, value }) => {
            const label = `${filter.label}: ${filter.param === 'owner' ? humanizeEntityRef(value, { defaultKind: 'group' }) : value}`;
            return (
              <li key={`${filter.param}-${value}`}>
                <Chip
                  size="small"
                  label={label}
                  onDelete={() => select(filter.param, state.selected[filter.param].filter((v) => v !== value))}
                />
              </li>
            );
          })}
          <li>
            <Button size="small" onClick={() => update({ selected: { type: [], owner: [], lifecycle: [], tag: [] } })}>
              Clear filters
            </Button>
          </li>
        </Box>
      )}
    </Paper>
  );
}

/** A multi-select of one facet's values with their counts under the other filters. */
function FacetSelect({
  state,
  param,
  field,
  label,
  onChange,
}: {
  state: CatalogListState;
  param: FacetParam;
  field: string;
  label: string;
  onChange: (values: string[]) => void;
}) {
  const facets = useFacets([field], buildFilter(state, param));
  const selected = state.selected[param];
  const options = facets.data?.[field] ?? [];
  // A chosen value is listed even when no entity has it under the other filters, so it can be cleared.
  const missing = selected.filter((value) => !options.some((o) => o.value.toLowerCase() === value.toLowerCase()));
  const all = [...options, ...missing.map((value) => ({ value, count: 0 }))];
  const display = (value: string) => (param === 'owner' ? humanizeEntityRef(value, { defaultKind: 'group' }) : value);
  const isSelected = (value: string) => selected.some((s) => s.toLowerCase() === value.toLowerCase());

  return (
    <TextField
      select
      label={label}
      value={selected}
      onChange={(event) => {
        const value = event.target.value as unknown as string[] | string;
        onChange(typeof value === 'string' ? value.split(',') : value);
      }}
      disabled={all.length === 0}
      fullWidth
      slotProps={{
        inputLabel: { shrink: true },
        select: {
          multiple: true,
          displayEmpty: true,
          renderValue: (value) => {
            const values = value as string[];
            if (values.length === 0) return <Typography color="text.secondary" variant="body2">{facets.isPending ? 'Loading…' : 'Any'}</Typography>;
            return values.map(display).join(', ');
          },
          MenuProps: { slotProps: { paper: { sx: { maxHeight: 380 } } } },
        },
      }}
    >
      {all.map((option) => (
        <MenuItem key={option.value} value={option.value} dense>
          <Checkbox size="small" checked={isSelected(option.value)} sx={{ p: 0.5, mr: 1 }} />
          <ListItemText primary={display(option.value)} />
          <Typography component="span" variant="body2" color="text.secondary" sx={{ ml: 2 }}>
            {option.count}
          </Typography>
        </MenuItem>
      ))}
    </TextField>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
