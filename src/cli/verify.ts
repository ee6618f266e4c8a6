import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { digestDirectory } from '../runtime/index.js';
import { attestationPredicates, verifyEvidence, type AttestationKind, type Evidence, type PublishedKeys, type VerificationResult } from '../security/index.js';
import type { Cli } from './context.js';
import { CliError } from './errors.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const maxBundleBytes = 64 * 1024 * 1024;

interface Attestation {
  kind: AttestationKind;
  bundle: unknown;
}

/** The artifact's digest and, for a file, its bytes (the signature over them is checked too). */
async function readArtifact(target: string): Promise<{ digest: string; bytes?: Buffer }> {
  if (DIGEST.test(target)) return { digest: target };
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new CliError(`${target}: no such file or directory (give a .tgz, a folder, or sha256:<hex>)`, 2);
  if (info.isDirectory()) return { digest: await digestDirectory(target) };
  const bytes = await readFile(target);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

/** Reads a bundle file and tells its kind by content: a message signature, or a DSSE statement (provenance, CycloneDX or SPDX SBOM). */
async function readBundle(file: string): Promise<Attestation> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(`--bundle ${file}: no such file`, 2);
  if (info.size > maxBundleBytes) throw new CliError(`--bundle ${file}: ${info.size} bytes is too large for a Sigstore bundle`, 2);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new CliError(`--bundle ${file}: not JSON; expected a Sigstore bundle`, 2);
  }
  const bundle = json as { messageSignature?: unknown; dsseEnvelope?: { payload?: unknown } };
  if (bundle.messageSignature !== undefined) return { kind: 'signature', bundle: json };
  const payload = typeof bundle.dsseEnvelope?.payload === 'string' ? Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8') : '';
  // A hint only: whatever the kind, verification checks the signed statement's predicate type.
  const sbomKind = (['sbom', 'sbom-spdx'] as const).find((k) => payload.includes(`"${attestationPredicates[k]}"`));
  return { kind: sbomKind ?? 'provenance', bundle: json };
}

function print(cli: Cli, target: string, result: VerificationResult): void {
  cli.out(`${target} (${result.digest})`);
  for (const c of result.checks) cli.out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}`);
  cli.out(result.ok ? 'verified' : 'NOT verified');
}

/** `plinth verify ARTIFACT [--bundle FILE]`: checks an artifact's signature, provenance subject and builder against the server's published keys. */
export function registerVerifyCommand(program: Command, cli: Cli): void {
  program
    .command('verify')
    .description('verify an artifact: the bundle signature against the published signing keys, the provenance subject digest and the builder id, the artifact signature and each SBOM attestation (CycloneDX, SPDX)')
    .argument('<artifact>', 'the artifact (.tgz file or folder) or its digest sha256:<hex>')
    .option('--bundle <file...>', 'Sigstore bundle(s) to check (provenance, CycloneDX or SPDX SBOM attestation, or signature); the rest is fetched from the server')
    .option('--json', 'print the checks as JSON')
    .action(async (target: string, opts: { bundle?: string[]; json?: boolean }, cmd: Command) => {
      const artifact = await readArtifact(target);
      const given = await Promise.all((opts.bundle ?? []).map(readBundle));
      const { client } = await cli.connect(cmd, { requireToken: given.every((g) => g.kind !== 'provenance') });
      // Keys are published without authentication, so a verifier needs no account when it has the bundle.
      const published = await client.json<PublishedKeys>('GET', '/.well-known/plinth/signing-keys', { auth: false });
      let found: Attestation[] = given;
      if (!given.some((g) => g.kind === 'provenance')) {
        const stored = await client.json<{ items: Attestation[] }>('GET', `/api/security/artifacts/${artifact.digest}/attestations`);
        found = [...given, ...stored.items.filter((s) => !given.some((g) => g.kind === s.kind))];
      }
      const of = (kind: Attestation['kind']) => found.find((a) => a.kind === kind)?.bundle;
      const signature = of('signature');
      const sbom = of('sbom');
      const spdx = of('sbom-spdx');
      const evidence: Evidence = {
        digest: artifact.digest, provenance: of('provenance'),
        ...(signature !== undefined ? { signature } : {}), ...(sbom !== undefined ? { sbom } : {}), ...(spdx !== undefined ? { spdx } : {}),
        ...(artifact.bytes ? { artifactBytes: artifact.bytes } : {}),
      };
      const result = verifyEvidence(evidence, published.keys, published.builderId);
      if (opts.json === true) cli.printJson(result);
      else print(cli, target, result);
      if (!result.ok) cli.exitCode = 1;
    });
}
