import Accordion from '@mui/material/Accordion';
import AccordionDetails from '@mui/material/AccordionDetails';
import AccordionSummary from '@mui/material/AccordionSummary';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Typography from '@mui/material/Typography';
import { ExpandMoreIcon } from '../components/icons';
import type { ApiChannel, ApiMessage } from './api-spec';
import { DetailSection, mono, ParameterTable, SchemaTree } from './ApiSchema';

/** AsyncAPI channels with their publish/subscribe (send/receive) operations and messages. */
export function Channels({ channels }: { channels: ApiChannel[] }) {
  if (channels.length === 0) return <Alert severity="info">The definition declares no channels.</Alert>;
  return (
    <Box component="section" aria-label="Channels">
      <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600, mb: 1 }}>
        Channels ({channels.length})
      </Typography>
      {channels.map((channel) => (
        <Accordion key={channel.name} disableGutters variant="outlined" sx={{ '&:before': { display: 'none' }, mb: 1, borderRadius: 1 }}>
          <AccordionSummary
            expandIcon={<ExpandMoreIcon />}
            aria-label={[...channel.operations.map((op) => op.action), channel.address ?? channel.name].join(' ')}
            sx={{ '& .MuiAccordionSummary-content': { alignItems: 'center', gap: 1.5, minWidth: 0 } }}
          >
            {channel.operations.map((op) => (
              <Chip key={`${op.action}-${op.operationId ?? ''}`} size="small" label={op.action} color={actionColor(op.action)} sx={{ fontWeight: 700, height: 22 }} />
            ))}
            <Typography component="span" sx={{ fontFamily: mono, fontSize: 14, fontWeight: 600 }}>
              {channel.address ?? channel.name}
            </Typography>
            <Typography component="span" variant="body2" color="text.secondary" noWrap>
              {channel.description ?? channel.operations[0]?.summary ?? ''}
            </Typography>
          </AccordionSummary>
          <AccordionDetails sx={{ display: 'grid', gap: 2, borderTop: 1, borderColor: 'divider', pt: 2 }}>
            {channel.parameters.length > 0 && (
              <DetailSection title="Parameters">
                <ParameterTable parameters={channel.parameters} />
              </DetailSection>
            )}
            {channel.operations.map((op) => (
              <DetailSection key={`${op.action}-${op.operationId ?? ''}`} title={`${op.action}${op.operationId !== undefined ? ` · ${op.operationId}` : ''}`}>
                {(op.summary ?? op.description) !== undefined && (
                  <Typography variant="body2" sx={{ mb: 1, whiteSpace: 'pre-wrap' }}>
                    {(op.summary ?? op.description ?? '').trim()}
                  </Typography>
                )}
                {op.messages.map((message, i) => (
                  <MessageView key={message.name ?? i} message={message} />
                ))}
              </DetailSection>
            ))}
          </AccordionDetails>
        </Accordion>
      ))}
    </Box>
  );
}

function actionColor(action: string): 'primary' | 'secondary' | 'default' {
  if (action === 'publish' || action === 'send') return 'primary';
  if (action === 'subscribe' || action === 'receive') return 'secondary';
  return 'default';
}

function MessageView({ message }: { message: ApiMessage }) {
  return (
    <Box sx={{ mb: 1.5 }}>
      <Box sx={{ display: 'flex', gap: 1, alignItems: 'baseline', flexWrap: 'wrap' }}>
        <Typography variant="body2" sx={{ fontWeight: 600 }}>
          Message {message.title ?? message.name ?? ''}
        </Typography>
        {message.name !== undefined && message.title !== undefined && (
          <Typography variant="caption" sx={{ fontFamily: mono }} color="text.secondary">
            {message.name}
          </Typography>
        )}
        {message.contentType !== undefined && (
          <Typography variant="caption" color="text.secondary">
            {message.contentType}
          </Typography>
        )}
      </Box>
      {message.summary !== undefined && (
        <Typography variant="body2" color="text.secondary">
          {message.summary}
        </Typography>
      )}
      {message.payload !== undefined && (
        <Box sx={{ mt: 0.5 }}>
          <Typography variant="caption" color="text.secondary">
            Payload
          </Typography>
          <SchemaTree node={message.payload} />
        </Box>
      )}
      {message.headers !== undefined && (
        <Box sx={{ mt: 0.5 }}>
          <Typography variant="caption" color="text.secondary">
            Headers
          </Typography>
          <SchemaTree node={message.headers} />
        </Box>
      )}
    </Box>
  );
}
