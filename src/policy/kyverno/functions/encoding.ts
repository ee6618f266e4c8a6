/** Kyverno's decoding functions: base64, JSON, YAML, X.509 certificates, hashes, image names. */
import { createHash, X509Certificate } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { JsonObject, JsonValue } from '../json.js';
import { FunctionError, stringArg } from './args.js';
import type { FunctionDefinition } from './types.js';

function decodeBase64(text: string): string {
  // Go's StdEncoding is strict: padding required and only the standard alphabet.
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw new FunctionError('base64_decode', 'illegal base64 data');
  }
  return Buffer.from(text, 'base64').toString('utf8');
}

function parseJsonText(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new FunctionError('parse_json', (err as Error).message);
  }
}

function parseYamlText(text: string): JsonValue {
  try {
    return (parseYaml(text, { version: '1.1', maxAliasCount: 100 }) ?? null) as JsonValue;
  } catch (err) {
    throw new FunctionError('parse_yaml', (err as Error).message.split('\n')[0] ?? 'invalid YAML');
  }
}

/** Distinguished-name text ("CN=a\nO=b") as Go's pkix.Name fields. */
function pkixName(text: string): JsonObject {
  const fields: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) (fields[line.slice(0, at)] ??= []).push(line.slice(at + 1));
  }
  return {
    CommonName: fields.CN?.[0] ?? '',
    Country: fields.C ?? null,
    Organization: fields.O ?? null,
    OrganizationalUnit: fields.OU ?? null,
    Locality: fields.L ?? null,
    Province: fields.ST ?? null,
    SerialNumber: fields.serialNumber?.[0] ?? '',
  };
}

/**
 * A certificate as Kyverno's `x509_decode` exposes Go's x509.Certificate: the fields policies read
 * (subject, issuer, validity, SANs, CA flag and the public key, RSA modulus `N` as decimal text).
 */
function decodeCertificate(pem: string): JsonValue {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (err) {
    throw new FunctionError('x509_decode', `failed to decode certificate: ${(err as Error).message}`);
  }
  const key = certificate.publicKey.export({ format: 'jwk' });
  const publicKey: JsonObject = {};
  if (key.n !== undefined && key.e !== undefined) {
    publicKey.N = BigInt(`0x${Buffer.from(key.n, 'base64url').toString('hex')}`).toString();
    publicKey.E = Number(BigInt(`0x${Buffer.from(key.e, 'base64url').toString('hex')}`));
  } else if (key.x !== undefined) {
    publicKey.X = BigInt(`0x${Buffer.from(key.x, 'base64url').toString('hex')}`).toString();
    if (key.y !== undefined) publicKey.Y = BigInt(`0x${Buffer.from(key.y, 'base64url').toString('hex')}`).toString();
    publicKey.Curve = key.crv ?? null;
  }
  const sans = (certificate.subjectAltName ?? '').split(', ').filter(Boolean);
  return {
    Version: 3,
    SerialNumber: BigInt(`0x${certificate.serialNumber}`).toString(),
    Issuer: pkixName(certificate.issuer),
    Subject: pkixName(certificate.subject),
    NotBefore: new Date(certificate.validFrom).toISOString().replace('.000Z', 'Z'),
    NotAfter: new Date(certificate.validTo).toISOString().replace('.000Z', 'Z'),
    PublicKeyAlgorithm: key.kty === 'RSA' ? 1 : key.kty === 'EC' ? 3 : 4,
    PublicKey: publicKey,
    IsCA: certificate.ca,
    DNSNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    EmailAddresses: sans.filter((s) => s.startsWith('email:')).map((s) => s.slice(6)),
    IPAddresses: sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11)),
    URIs: sans.filter((s) => s.startsWith('URI:')).map((s) => s.slice(4)),
  };
}

/** Docker's reference normalization: `nginx` → `docker.io/library/nginx:latest`. */
function normalizeImage(image: string): string {
  let name = image;
  let digest = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at);
    name = name.slice(0, at);
  }
  const firstSlash = name.indexOf('/');
  const first = firstSlash >= 0 ? name.slice(0, firstSlash) : '';
  const hasRegistry = firstSlash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : 'docker.io';
  let path = hasRegistry ? name.slice(firstSlash + 1) : name;
  if (registry === 'index.docker.io') registry = 'docker.io';
  const lastColon = path.lastIndexOf(':');
  let tag = '';
  if (lastColon >= 0) {
    tag = path.slice(lastColon + 1);
    path = path.slice(0, lastColon);
  }
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (tag === '' && digest === '') tag = 'latest';
  return `${registry}/${path}${tag ? `:${tag}` : ''}${digest}`;
}

function hash(algorithm: string): FunctionDefinition {
  return { name: algorithm, arity: 1, run: (a) => createHash(algorithm).update(stringArg(algorithm, a, 0)).digest('hex') };
}

export const encodingFunctions: FunctionDefinition[] = [
  { name: 'base64_decode', arity: 1, run: (a) => decodeBase64(stringArg('base64_decode', a, 0)) },
  { name: 'base64_encode', arity: 1, run: (a) => Buffer.from(stringArg('base64_encode', a, 0), 'utf8').toString('base64') },
  { name: 'parse_json', arity: 1, run: (a) => parseJsonText(stringArg('parse_json', a, 0)) },
  { name: 'parse_yaml', arity: 1, run: (a) => parseYamlText(stringArg('parse_yaml', a, 0)) },
  { name: 'x509_decode', arity: 1, run: (a) => decodeCertificate(stringArg('x509_decode', a, 0)) },
  { name: 'image_normalize', arity: 1, run: (a) => normalizeImage(stringArg('image_normalize', a, 0)) },
  hash('sha256'),
  hash('sha1'),
  hash('md5'),
];
