/**
 * TLS certificate provider: certificates for a service's host names issued by Plinth's internal CA,
 * stored in the secret store as `tls.crt`, `tls.key` and `ca.crt` (the Kubernetes TLS secret keys)
 * and renewed before expiry through rotation. Keys are made with node:crypto (EC P-256); X.509
 * signing runs the `openssl` command (node:crypto parses certificates but cannot create them).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gatewayHost, hostNameProblem } from '../../kernel/index.js';
import { TerminalProvisioningError, type Provider, type ProvisionContext } from './provider.js';

const run = promisify(execFile);
/** The platform secret holding the CA (created on first use, shared by every replica through the database). */
export const CA_SECRET = 'plinth.internal-ca';
const CA_OWNER = 'group:default/platform';
const CA_DAYS = 3650;

const newKey = (): string => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Runs openssl in a private temporary folder holding `files` (keys 0600); returns the folder's `out` file. */
async function openssl(files: Record<string, string>, args: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plinth-tls-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content, { mode: 0o600 });
    await run('openssl', args, { cwd: dir, timeout: 30_000 });
    return await readFile(join(dir, 'out'), 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT' && !(err as { path?: string }).path) throw new TerminalProvisioningError('openssl is not installed; TLS certificates need it', { cause: err });
    throw new Error(`openssl ${args[0]} failed: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0]}`, { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function createAuthority(): Promise<Record<string, string>> {
  const key = newKey();
  const config = ['[req]', 'distinguished_name = dn', 'x509_extensions = ca', 'prompt = no', '[dn]', 'O = Plinth', 'CN = Plinth internal CA', '[ca]', 'basicConstraints = critical,CA:TRUE,pathlen:0', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash'].join('\n');
  const cert = await openssl({ 'ca.key': key, 'ca.cnf': config }, ['req', '-x509', '-new', '-config', 'ca.cnf', '-key', 'ca.key', '-sha256', '-days', String(CA_DAYS), '-out', 'out']);
  return { 'ca.crt': cert, 'ca.key': key };
}

/** A certificate for `hosts` signed by the CA; host names are checked by the module's schema and `checkInputs`, so they cannot break the config. */
export async function issueCertificate(ca: Record<string, string>, hosts: readonly string[], days: number): Promise<Record<string, string>> {
  const key = newKey();
  const extensions = ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = serverAuth', `subjectAltName = ${hosts.map((h) => `DNS:${h}`).join(',')}`, 'authorityKeyIdentifier = keyid', 'subjectKeyIdentifier = hash'].join('\n');
  const csr = await openssl({ 'tls.key': key }, ['req', '-new', '-key', 'tls.key', '-subj', `/CN=${hosts[0]!}`, '-out', 'out']);
  // A random 127-bit serial (the top bit clear keeps it positive), as CA/Browser Forum rules ask.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const cert = await openssl({ 'tls.csr': csr, 'ca.crt': ca['ca.crt']!, 'ca.key': ca['ca.key']!, 'ext.cnf': extensions }, ['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${serial.toString('hex')}`, '-days', String(days), '-sha256', '-extfile', 'ext.cnf', '-out', 'out']);
  return { 'tls.crt': cert, 'tls.key': key, 'ca.crt': ca['ca.crt']! };
}

/** The DNS names of a certificate's subjectAltName. */
export function certificateHosts(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(/,\s*/).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
}

/** The host names a certificate claim names (its `hosts`, else `<name>.<environment>.<base domain>`). */
export const hostsOf = (claim: { name: string; environment: string; inputs: Record<string, unknown> }, baseDomain: string): string[] =>
  Array.isArray(claim.inputs.hosts) && claim.inputs.hosts.length > 0 ? claim.inputs.hosts.map(String) : [gatewayHost(claim.name, claim.environment, baseDomain)];

export function createTlsProvider(baseDomain: string): Provider {
  const hostsOfClaim = (claim: { name: string; environment: string; inputs: Record<string, unknown> }) => hostsOf(claim, baseDomain);
  const authority = (ctx: ProvisionContext) => ctx.secrets.ensureClaimSecret({ name: CA_SECRET, ownerRef: CA_OWNER, claimId: null }, createAuthority);
  const generate = async (ctx: ProvisionContext) => issueCertificate(await authority(ctx), hostsOfClaim(ctx.claim), Number(ctx.claim.inputs.validityDays ?? 90));
  const certificate = async (ctx: ProvisionContext) => new X509Certificate((await ctx.secrets.ensureClaimSecret({ name: ctx.names.secretName, ownerRef: ctx.claim.owner, claimId: ctx.claim.id }, () => generate(ctx)))['tls.crt']!);

  return {
    name: 'tls-certificate',
    unavailable: async () => {
      try {
        await run('openssl', ['version'], { timeout: 5000 });
        return undefined;
      } catch (err) {
        return `the openssl command is unavailable (${(err as Error).message})`;
      }
    },
    checkInputs(claim) {
      // A claim names hosts of its own environment only: a staging claim cannot get a production name.
      // Each is an RFC 1123 name even when a published module's schema is looser: the names go into
      // openssl's extension file, where a newline or comma would add extensions (CA:TRUE) or names.
      const suffix = `.${claim.environment}.${baseDomain}`;
      const problems: string[] = [];
      for (const host of hostsOfClaim(claim)) {
        const problem = hostNameProblem(host, { wildcard: true });
        if (problem !== undefined) problems.push(`inputs.hosts: ${JSON.stringify(host.slice(0, 80))} ${problem}`);
        else if (!host.endsWith(suffix)) problems.push(`inputs.hosts: "${host}" is not a host name of environment ${claim.environment}; use <service>${suffix}`);
      }
      if (Number(claim.inputs.renewBeforeDays ?? 0) >= Number(claim.inputs.validityDays ?? 90)) problems.push('inputs.renewBeforeDays: must be less than validityDays');
      return problems;
    },
    steps: [
      { name: 'authority', run: async (ctx) => void (await authority(ctx)) },
      { name: 'certificate', run: async (ctx) => void (await certificate(ctx)) },
    ],
    async outputs(ctx) {
      const s = ctx.names.secretName;
      return { hosts: hostsOfClaim(ctx.claim).join(','), secretRef: s, certRef: `${s}/tls.crt`, keyRef: `${s}/tls.key`, caRef: `${s}/ca.crt` };
    },
    async observe(ctx) {
      const cert = await certificate(ctx);
      const ca = new X509Certificate((await authority(ctx))['ca.crt']!);
      const problems: string[] = [];
      if (!cert.verify(ca.publicKey)) problems.push(`certificate ${ctx.names.secretName} is not signed by the current internal CA`);
      const hosts = certificateHosts(cert);
      if (hosts.join(',') !== hostsOfClaim(ctx.claim).join(',')) problems.push(`certificate ${ctx.names.secretName} names ${hosts.join(', ')}, not ${hostsOfClaim(ctx.claim).join(', ')}`);
      if (new Date(cert.validTo) < new Date()) problems.push(`certificate ${ctx.names.secretName} expired at ${new Date(cert.validTo).toISOString()}`);
      return problems;
    },
    async renewalDue(ctx, at) {
      const cert = await certificate(ctx);
      return new Date(cert.validTo).getTime() - Number(ctx.claim.inputs.renewBeforeDays ?? 30) * 86_400_000 <= at.getTime();
    },
    backup: async () => undefined,
    rotation: {
      generate,
      // Nothing lives on a server: the new version in the secret store is the certificate. Workloads pick it up on the rotated event.
      apply: async () => undefined,
      revoke: async () => ({ closedSessions: 0 }),
    },
    // The controller removes the claim's secret; the CA stays for the other claims.
    destroy: async () => undefined,
    close: async () => undefined,
  };
}
