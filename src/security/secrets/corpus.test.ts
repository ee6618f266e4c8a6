import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCorpusLabels, scoreCorpus } from './corpus.js';
import { scanSecrets } from './scan.js';

const corpus = fileURLToPath(new URL('../../../test/fixtures/secrets-corpus', import.meta.url));

// The labelled corpus (test/fixtures/secrets-corpus): true secrets in realistic files beside
// look-alikes (placeholders, documented example keys, hashes, UUIDs, inlined images, env references).
describe('the labelled secrets corpus', () => {
  it('is found with recall ≥ 0.95 and precision ≥ 0.9 by the built-in rules', async () => {
    const labels = await readCorpusLabels(corpus);
    const result = await scanSecrets({ path: corpus });
    const score = scoreCorpus(result.findings, labels);
    process.stdout.write(`secrets corpus: ${labels.length} labelled secrets, ${result.findings.length} findings; precision ${score.precision.toFixed(3)}, recall ${score.recall.toFixed(3)}\n`);
    expect(score.missed, 'missed').toEqual([]);
    expect(score.falsePositives, 'false positives').toEqual([]);
    expect(score.recall).toBeGreaterThanOrEqual(0.95);
    expect(score.precision).toBeGreaterThanOrEqual(0.9);
  });

  it('covers every rule family the built-in set promises', async () => {
    const families = new Set((await readCorpusLabels(corpus)).flatMap((l) => l.rules));
    for (const rule of ['aws-access-key-id', 'aws-secret-access-key', 'gcp-service-account-key', 'gcp-api-key', 'azure-storage-account-key', 'github-pat', 'github-fine-grained-pat', 'gitlab-pat', 'slack-token', 'slack-webhook-url', 'discord-webhook-url', 'microsoft-teams-webhook-url', 'stripe-live-key', 'twilio-api-key', 'sendgrid-api-key', 'npm-access-token', 'pypi-upload-token', 'private-key', 'jwt', 'connection-string-password', 'generic-secret-assignment']) {
      expect(families, rule).toContain(rule);
    }
  });
});
