import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import Autocomplete from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import InputAdornment from '@mui/material/InputAdornment';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useDebouncedValue } from '../components/debounce';
import { SearchIcon } from '../components/icons';
import { searchTypeLabel, searchTypes, useInstantSearch, type SearchResult } from './api';
import { HighlightedText } from './HighlightedText';

/**
 * The app bar's search box: the top results as one types, grouped by type; arrow keys move through
 * them, Enter opens the highlighted one, or the full results page when none is highlighted.
 */
export function GlobalSearch() {
  const navigate = useNavigate();
  const [input, setInput] = useState('');
  const [open, setOpen] = useState(false);
  const [highlighted, setHighlighted] = useState<SearchResult | null>(null);
  const term = useDebouncedValue(input.trim(), 250);
  const search = useInstantSearch({ term, types: searchTypes.map((t) => t.type), filters: {}, pageLimit: 8 });
  const ready = term.length >= 2 && term === input.trim();
  // Results sorted into their groups (Autocomplete's groupBy needs each group's options together).
  const options = ready ? sortByType(search.data?.results ?? []) : [];

  const openFullPage = () => {
    const q = input.trim();
    if (q === '') return;
    setOpen(false);
    setInput('');
    void navigate(`/search?q=${encodeURIComponent(q)}`);
  };

  return (
    <Autocomplete<SearchResult, false, false, false>
      options={options}
      value={null}
      open={open && input.trim().length >= 2}
      onOpen={() => setOpen(true)}
      onClose={() => setOpen(false)}
      inputValue={input}
      onInputChange={(_event, value, reason) => {
        if (reason === 'input' || reason === 'clear') {
          setInput(value);
          setOpen(true);
        }
      }}
      onHighlightChange={(_event, option) => setHighlighted(option)}
      onChange={(_event, option) => {
        if (option === null) return;
        setOpen(false);
        setInput('');
        void navigate(option.document.location);
      }}
      onKeyDown={(event) => {
        if (event.key === 'Enter' && (highlighted === null || !open)) {
          event.preventDefault();
          openFullPage();
        }
      }}
      filterOptions={(x) => x}
      groupBy={(option) => searchTypeLabel(option.type)}
      getOptionLabel={(option) => option.document.title}
      isOptionEqualToValue={(a, b) => a.document.location === b.document.location}
      loading={!ready || search.isFetching}
      loadingText="Searching…"
      noOptionsText={search.error !== null ? `Search is not available: ${search.error.message}` : `Nothing found for “${term}”`}
      forcePopupIcon={false}
      clearOnBlur={false}
      handleHomeEndKeys={false}
      autoHighlight={false}
      sx={{ width: { xs: 200, sm: 320, md: 420 } }}
      slotProps={{ paper: { sx: { mt: 0.5, boxShadow: '0 8px 30px rgba(17,24,39,0.12)' } }, listbox: { sx: { maxHeight: 480 } } }}
      renderOption={(props, option) => {
        const { key, ...rest } = props;
        return (
          <Box component="li" key={key} {...rest} sx={{ display: 'block !important', py: '6px !important' }}>
            <Typography variant="body2" sx={{ fontWeight: 600 }}>
              <HighlightedText text={option.highlight?.fields.title ?? option.document.title} preTag={option.highlight?.preTag} postTag={option.highlight?.postTag} />
            </Typography>
            <Typography variant="caption" color="text.secondary" component="div" noWrap>
              {resultContext(option)}
            </Typography>
          </Box>
        );
      }}
      renderGroup={(params) => (
        <li key={params.key}>
          <Typography variant="overline" component="div" color="text.secondary" sx={{ px: 2, pt: 1, fontWeight: 700, lineHeight: 2 }}>
            {params.group}
          </Typography>
          <Box component="ul" sx={{ p: 0 }}>
            {params.children}
          </Box>
        </li>
      )}
      renderInput={(params) => (
        <TextField
          {...params}
          placeholder="Search Plinth"
          size="small"
          slotProps={{
            ...params.slotProps,
            htmlInput: { ...params.slotProps.htmlInput, 'aria-label': 'Search Plinth' },
            input: {
              ...params.slotProps.input,
              startAdornment: (
                <InputAdornment position="start">
                  <SearchIcon fontSize="small" />
                </InputAdornment>
              ),
              sx: { bgcolor: '#f4f6fb', borderRadius: 2, '& fieldset': { borderColor: 'transparent' } },
            },
          }}
        />
      )}
    />
  );
}

function sortByType(results: SearchResult[]): SearchResult[] {
  const order = (type: string) => {
    const index = searchTypes.findIndex((t) => t.type === type);
    return index === -1 ? searchTypes.length : index;
  };
  return [...results].sort((a, b) => order(a.type) - order(b.type));
}

/** One line under a result's title: kind and owner for entities, the page's entity for docs. */
export function resultContext(result: SearchResult): string {
  const d = result.document;
  const parts = [d.kind, d.type, d.owner?.replace(/^group:(default\/)?/, '')].filter((p): p is string => p !== undefined && p !== '');
  if (parts.length === 0) parts.push(d.location);
  return parts.join(' · ');
}
