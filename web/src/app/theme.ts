import { createTheme } from '@mui/material/styles';

/** One theme for the portal: quiet surfaces, one accent colour, dense but readable tables. */
export const theme = createTheme({
  palette: {
    mode: 'light',
    primary: { main: '#3454d1', dark: '#2539a3', light: '#6b84e6', contrastText: '#ffffff' },
    secondary: { main: '#0f766e' },
    background: { default: '#f4f6fb', paper: '#ffffff' },
    text: { primary: '#111827', secondary: '#4b5563' },
    divider: '#e3e7ef',
  },
  shape: { borderRadius: 8 },
  typography: {
    fontFamily: [
      'Inter',
      'system-ui',
      '-apple-system',
      '"Segoe UI"',
      'Roboto',
      '"Helvetica Neue"',
      'Arial',
      'sans-serif',
    ].join(','),
    h4: { fontWeight: 650, fontSize: '1.75rem', letterSpacing: '-0.01em' },
    h5: { fontWeight: 650, fontSize: '1.3rem' },
    h6: { fontWeight: 600, fontSize: '1.05rem' },
    subtitle2: { fontWeight: 600 },
    button: { textTransform: 'none', fontWeight: 600 },
  },
  components: {
    MuiButton: { defaultProps: { disableElevation: true } },
    MuiPaper: { defaultProps: { elevation: 0 } },
    MuiCard: { defaultProps: { variant: 'outlined' } },
    MuiAppBar: { defaultProps: { elevation: 0 } },
    MuiTextField: { defaultProps: { size: 'small' } },
    MuiTableCell: {
      styleOverrides: {
        head: { fontWeight: 600, color: '#4b5563', backgroundColor: '#f8f9fc', whiteSpace: 'nowrap' },
      },
    },
    MuiListItemButton: {
      styleOverrides: {
        root: ({ theme }) => ({
          borderRadius: theme.shape.borderRadius,
          '&.Mui-selected': { backgroundColor: '#e8edfc', color: theme.palette.primary.dark },
          '&.Mui-selected:hover': { backgroundColor: '#dde4fb' },
        }),
      },
    },
    MuiChip: { styleOverrides: { root: { fontWeight: 500 } } },
  },
});
