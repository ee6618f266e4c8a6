import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import { supplyChainUrls } from '../security/api';
import { artifactDownloadUrl, useArtifact, type RecordedTest } from './api';
import { formatBytes, formatMs, testSummary, type RunArtifact } from './run-view';

const outcomeTone = { passed: 'success', failed: 'error', skipped: 'default' } as const;

/** Per-test results the run's steps reported (JUnit XML, vitest/jest JSON), failures first. */
export function TestResults({ tests }: { tests: RecordedTest[] }) {
  const summary = testSummary(tests);
  const order = { failed: 0, passed: 1, skipped: 2 } as const;
  const sorted = [...tests].sort((a, b) => order[a.outcome] - order[b.outcome] || Number(b.flaky) - Number(a.flaky));
  return (
    <Paper variant="outlined" component="section" aria-label="Test results" sx={{ p: 2 }}>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, mb: 1.5, flexWrap: 'wrap' }}>
        <Typography variant="h6" component="h2" sx={{ flex: 1 }}>
          Test results
        </Typography>
        <Chip size="small" color="success" variant="outlined" label={`${summary.passed} passed`} />
        <Chip size="small" color="error" variant="outlined" label={`${summary.failed} failed`} />
        <Chip size="small" variant="outlined" label={`${summary.skipped} skipped`} />
        {summary.flaky > 0 && <Chip size="small" color="warning" variant="outlined" label={`${summary.flaky} flaky`} />}
      </Box>
      {tests.length === 0 ? (
        <Typography variant="body2" color="text.secondary">
          No test report was collected. JUnit XML (<code>*junit*.xml</code>, <code>TEST-*.xml</code>) and vitest/jest JSON reports written by a step show here.
        </Typography>
      ) : (
        <TableContainer sx={{ maxHeight: 420 }}>
          <Table size="small" stickyHeader aria-label="Tests">
            <TableHead>
              <TableRow>
                <TableCell>Test</TableCell>
                <TableCell>File</TableCell>
                <TableCell>Step</TableCell>
                <TableCell align="right">Duration</TableCell>
                <TableCell>Outcome</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {sorted.map((test, i) => (
                <TableRow key={`${test.step}/${test.file ?? ''}/${test.name}/${i}`}>
                  <TableCell>{test.name}</TableCell>
                  <TableCell sx={{ fontFamily: 'monospace', fontSize: 12.5 }}>{test.file ?? '—'}</TableCell>
                  <TableCell>{test.step}</TableCell>
                  <TableCell align="right">{formatMs(test.durationMs)}</TableCell>
                  <TableCell>
                    <Box sx={{ display: 'flex', gap: 0.5 }}>
                      <Chip size="small" label={test.outcome} color={outcomeTone[test.outcome]} />
                      {test.flaky && <Chip size="small" color="warning" variant="outlined" label="flaky" title="failed, then passed on a retry" />}
                    </Box>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </TableContainer>
      )}
    </Paper>
  );
}

/** What the run's platform steps produced, by digest, with a download for build artifacts. */
export function RunArtifacts({ artifacts }: { artifacts: RunArtifact[] }) {
  return (
    <Paper variant="outlined" component="section" aria-label="Artifacts" sx={{ p: 2 }}>
      <Typography variant="h6" component="h2" gutterBottom>
        Artifacts
      </Typography>
      {artifacts.length === 0 ? (
        <Typography variant="body2" color="text.secondary">
          This run produced no artifact (the package stage builds one).
        </Typography>
      ) : (
        <TableContainer>
          <Table size="small" aria-label="Artifacts of the run">
            <TableHead>
              <TableRow>
                <TableCell>Name</TableCell>
                <TableCell>Digest</TableCell>
                <TableCell align="right">Size</TableCell>
                <TableCell>Step</TableCell>
                <TableCell />
              </TableRow>
            </TableHead>
            <TableBody>
              {artifacts.map((artifact) => (
                <ArtifactRow key={artifact.digest} artifact={artifact} />
              ))}
            </TableBody>
          </Table>
        </TableContainer>
      )}
    </Paper>
  );
}

/** The artifact's SBOMs (CycloneDX 1.6, SPDX 2.3) and its signed SLSA provenance (a Sigstore bundle), as files. */
function SupplyChainLinks({ digest, name }: { digest: string; name: string }) {
  const urls = supplyChainUrls(digest);
  const stem = name.replace(/\.tgz$/, '');
  return (
    <>
      <Button size="small" href={urls.cyclonedx} download={`${stem}.cdx.json`} aria-label={`CycloneDX SBOM of ${name}`}>
        SBOM (CycloneDX)
      </Button>
      <Button size="small" href={urls.spdx} download={`${stem}.spdx.json`} aria-label={`SPDX SBOM of ${name}`}>
        SBOM (SPDX)
      </Button>
      <Button size="small" href={urls.provenance} download={`${stem}.sigstore.json`} aria-label={`Provenance of ${name}`}>
        Provenance
      </Button>
    </>
  );
}

function ArtifactRow({ artifact }: { artifact: RunArtifact }) {
  // Only build artifacts are in the artifact store; other digests (e.g. a signature's subject) have no download.
  const stored = useArtifact(artifact.digest);
  const name = stored.data?.name ?? artifact.name ?? '—';
  const size = stored.data?.sizeBytes ?? artifact.sizeBytes;
  return (
    <TableRow>
      <TableCell>{name}</TableCell>
      <TableCell sx={{ fontFamily: 'monospace', fontSize: 12.5 }} title={artifact.digest}>
        {artifact.digest.slice(0, 19)}…
      </TableCell>
      <TableCell align="right">{formatBytes(size)}</TableCell>
      <TableCell>{artifact.step}</TableCell>
      <TableCell align="right">
        {stored.data !== undefined ? (
          <Box sx={{ display: 'flex', gap: 0.5, justifyContent: 'flex-end', flexWrap: 'wrap' }}>
            <Button size="small" href={artifactDownloadUrl(artifact.digest)} download={stored.data.name} aria-label={`Download ${stored.data.name}`}>
              Download
            </Button>
            <SupplyChainLinks digest={artifact.digest} name={stored.data.name} />
          </Box>
        ) : stored.isError ? (
          <Alert severity="info" sx={{ py: 0 }}>
            not in the artifact store
          </Alert>
        ) : null}
      </TableCell>
    </TableRow>
  );
}
