import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';

/** Label–value pairs as a definition list in two aligned columns (a claim's details, a plan, a finding). */
export function FactList({ rows, variant = 'body2' }: { rows: readonly (readonly [string, string])[]; variant?: 'body1' | 'body2' }) {
  return (
    <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 3, rowGap: 0.5, m: 0 }}>
      {rows.map(([label, value]) => (
        <Box key={label} sx={{ display: 'contents' }}>
          <Typography component="dt" variant={variant} color="text.secondary">
            {label}
          </Typography>
          <Typography component="dd" variant={variant} sx={{ m: 0, wordBreak: 'break-word' }}>
            {value}
          </Typography>
        </Box>
      ))}
    </Box>
  );
}
