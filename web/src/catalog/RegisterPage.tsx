import { useState, type FormEvent } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Step from '@mui/material/Step';
import StepLabel from '@mui/material/StepLabel';
import Stepper from '@mui/material/Stepper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { Entity } from '../../../src/catalog/index.js';
import { entityNameOf, entityRoute, entityTitle } from '../components/entity-refs';
import { PageHeader } from '../components/PageHeader';
import { useAnalyzeLocation, useRegisterLocation, type LocationAnalysis, type RegisteredLocation } from './api';

const steps = ['Enter the URL', 'Review', 'Done'] as const;

/** `/catalog/register`: import the entities of a catalog-info.yaml at a URL, after seeing what it holds. */
export function RegisterPage() {
  const [url, setUrl] = useState('');
  const analyze = useAnalyzeLocation();
  const register = useRegisterLocation();
  const step = register.isSuccess ? 2 : analyze.isSuccess ? 1 : 0;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    register.reset();
    analyze.mutate(url.trim());
  };
  const startOver = () => {
    analyze.reset();
    register.reset();
    setUrl('');
  };

  return (
    <>
      <PageHeader
        title="Register an existing component"
        subtitle="Point Plinth at a catalog-info.yaml in your repository; it reads the entities it describes and keeps them up to date."
      />
      <Paper variant="outlined" sx={{ p: { xs: 2, sm: 3 }, maxWidth: 960 }}>
        <Stepper activeStep={step} sx={{ mb: 3 }} aria-label="Registration steps">
          {steps.map((label, index) => (
            <Step key={label} completed={step > index}>
              <StepLabel aria-label={`Step ${index + 1}: ${label}${step === index ? ' (current)' : ''}`}>{label}</StepLabel>
            </Step>
          ))}
        </Stepper>

        <Box component="form" onSubmit={submit} aria-label="Catalog file URL" sx={{ display: 'flex', gap: 1.5, alignItems: 'flex-start', flexWrap: 'wrap' }}>
          <TextField
            label="URL of a catalog-info.yaml"
            placeholder="https://github.com/org/repo/blob/main/catalog-info.yaml"
            value={url}
            onChange={(event) => {
              setUrl(event.target.value);
              if (analyze.isSuccess || analyze.isError) analyze.reset();
            }}
            disabled={register.isSuccess}
            type="url"
            required
            sx={{ flex: 1, minWidth: 280 }}
            slotProps={{ inputLabel: { shrink: true } }}
            helperText="A file with one or more entities (Component, API, Resource…), or a Location that lists more files."
          />
          <Button type="submit" variant="contained" loading={analyze.isPending} disabled={url.trim() === '' || register.isSuccess} sx={{ mt: 0.25 }}>
            Analyze
          </Button>
        </Box>

        {analyze.isError && (
          <Alert severity="error" sx={{ mt: 2 }}>
            <AlertTitle>The location could not be read</AlertTitle>
            {analyze.error.message}
          </Alert>
        )}

        {analyze.data !== undefined && !register.isSuccess && (
          <Review
            analysis={analyze.data}
            importing={register.isPending}
            error={register.error}
            onImport={() => register.mutate(url.trim())}
            onCancel={startOver}
          />
        )}

        {register.data !== undefined && (
          <Finished result={register.data} analyzed={analyze.data === undefined ? [] : entitiesOf(analyze.data).map((f) => f.entity)} onAnother={startOver} />
        )}
      </Paper>
    </>
  );
}

/** The entities a location would import, ignoring the Location entity that stands for the file itself. */
function entitiesOf(analysis: LocationAnalysis) {
  return analysis.existingEntityFiles.filter((file) => file.entity.kind.toLowerCase() !== 'location' || analysis.existingEntityFiles.length === 1);
}

function Review({
  analysis,
  importing,
  error,
  onImport,
  onCancel,
}: {
  analysis: LocationAnalysis;
  importing: boolean;
  error: Error | null;
  onImport: () => void;
  onCancel: () => void;
}) {
  const files = entitiesOf(analysis);
  const fresh = files.filter((f) => !f.isRegistered).length;
  return (
    <Box component="section" aria-labelledby="register-review" sx={{ mt: 3 }}>
      <Typography id="register-review" variant="h6" component="h2">
        Review
      </Typography>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 1.5 }}>
        {files.length === 1 ? 'The file describes 1 entity' : `The file describes ${files.length} entities`}
        {fresh < files.length ? `; ${files.length - fresh} already in the catalog.` : '.'}
      </Typography>
      <TableContainer component={Paper} variant="outlined">
        <Table size="small" aria-label="Entities found">
          <TableHead>
            <TableRow>
              <TableCell>Entity</TableCell>
              <TableCell>Kind</TableCell>
              <TableCell>Description</TableCell>
              <TableCell>Status</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {files.map(({ entity, isRegistered }) => (
              <TableRow key={`${entity.kind}:${entity.metadata.namespace ?? 'default'}/${entity.metadata.name}`}>
                <TableCell sx={{ fontWeight: 600 }}>
                  {isRegistered ? (
                    <Link component={RouterLink} to={entityRoute(entityNameOf(entity))} underline="hover">
                      {entityTitle(entity)}
                    </Link>
                  ) : (
                    entityTitle(entity)
                  )}
                  {entityTitle(entity) !== entity.metadata.name && (
                    <Typography variant="caption" color="text.secondary" component="div" sx={{ fontWeight: 400 }}>
                      {entity.metadata.name}
                    </Typography>
                  )}
                </TableCell>
                <TableCell>{entity.kind}</TableCell>
                <TableCell>
                  <Typography variant="body2" color="text.secondary">
                    {entity.metadata.description ?? ''}
                  </Typography>
                </TableCell>
                <TableCell>
                  {isRegistered ? <Chip size="small" label="Already registered" /> : <Chip size="small" color="success" variant="outlined" label="New" />}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </TableContainer>
      {error !== null && (
        <Alert severity="error" sx={{ mt: 2 }}>
          <AlertTitle>{error.name === 'ConflictError' ? 'Already registered' : 'Import failed'}</AlertTitle>
          {error.message}
        </Alert>
      )}
      <Box sx={{ display: 'flex', gap: 1, mt: 2 }}>
        <Button variant="contained" onClick={onImport} loading={importing} disabled={files.length === 0}>
          Import
        </Button>
        <Button onClick={onCancel} disabled={importing}>
          Start over
        </Button>
      </Box>
    </Box>
  );
}

/** The entities the server reports as stored; when it reports none, the ones the analysis found. */
function Finished({ result, analyzed, onAnother }: { result: RegisteredLocation; analyzed: Entity[]; onAnother: () => void }) {
  const stored = result.entities.length > 0 ? result.entities : analyzed;
  const entities = stored.filter((e) => e.kind.toLowerCase() !== 'location');
  return (
    <Box component="section" aria-labelledby="register-done" sx={{ mt: 3 }}>
      <Alert severity="success">
        <AlertTitle id="register-done">Registered</AlertTitle>
        {entities.length === 1 ? '1 entity was' : `${entities.length} entities were`} added to the catalog from{' '}
        <Box component="code" sx={{ wordBreak: 'break-all' }}>
          {result.location.target}
        </Box>
        . Plinth re-reads the file on a schedule, so later changes show up on their own.
      </Alert>
      <Box component="ul" aria-label="Imported entities" sx={{ listStyle: 'none', p: 0, m: 0, mt: 2, display: 'grid', gap: 1 }}>
        {entities.map((entity) => (
          <Box component="li" key={entity.metadata.uid ?? entity.metadata.name} sx={{ display: 'flex', alignItems: 'center', gap: 1.5 }}>
            <Chip size="small" label={entity.kind} />
            <Link component={RouterLink} to={entityRoute(entityNameOf(entity))} underline="hover" sx={{ fontWeight: 600 }}>
              {entityTitle(entity)}
            </Link>
            {entity.metadata.description !== undefined && (
              <Typography variant="body2" color="text.secondary" noWrap>
                {entity.metadata.description}
              </Typography>
            )}
          </Box>
        ))}
      </Box>
      <Button sx={{ mt: 2 }} onClick={onAnother}>
        Register another
      </Button>
    </Box>
  );
}
