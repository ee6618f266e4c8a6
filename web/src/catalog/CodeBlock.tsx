import { useState } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { CheckIcon, CopyIcon } from '../components/icons';

/** Text in a monospace block with a copy button: entity YAML, raw API definitions, SDL and proto files. */
export function CodeBlock({ text, label, maxHeight = 640 }: { text: string; label: string; maxHeight?: number }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
    window.setTimeout(() => setCopied(null), 2000);
  };
  return (
    <Paper variant="outlined" sx={{ position: 'relative', bgcolor: '#f8f9fc' }}>
      <Box sx={{ display: 'flex', alignItems: 'center', justifyContent: 'space-between', px: 2, py: 0.75, borderBottom: 1, borderColor: 'divider' }}>
        <Typography variant="caption" color="text.secondary" sx={{ fontWeight: 600, textTransform: 'uppercase', letterSpacing: '0.04em' }}>
          {label}
        </Typography>
        <Button
          size="small"
          onClick={copy}
          startIcon={copied === 'yes' ? <CheckIcon /> : <CopyIcon />}
          aria-label={`Copy ${label}`}
          color={copied === 'failed' ? 'error' : 'primary'}
        >
          {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Copy failed' : 'Copy'}
        </Button>
      </Box>
      <Box
        component="pre"
        tabIndex={0}
        aria-label={label}
        sx={{
          m: 0,
          p: 2,
          overflow: 'auto',
          maxHeight,
          fontFamily: '"JetBrains Mono", "SFMono-Regular", Menlo, Consolas, monospace',
          fontSize: 13,
          lineHeight: 1.55,
          color: '#1f2937',
        }}
      >
        <code>{text}</code>
      </Box>
    </Paper>
  );
}
