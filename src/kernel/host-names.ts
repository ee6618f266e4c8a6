/**
 * Host names the gateway routes (`<service>.<environment>.<base domain>`) and certificates name. The
 * base domain is the platform's (`localhost` by default: `*.localhost` resolves to loopback without a
 * DNS server, RFC 6761 §6.3); every name is checked against RFC 1123 before it reaches a certificate
 * request or the gateway, so no input can smuggle syntax into either.
 */
import { InputError } from './errors.js';

export const DEFAULT_BASE_DOMAIN = 'localhost';

/** One RFC 1123 label: letters, digits and inner hyphens, 1 to 63 characters (lower case: names are compared as written). */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Room left under the 253-character limit for `<service (≤ 63)>.<environment (≤ 20)>.` before the base domain. */
const BASE_DOMAIN_MAX = 253 - 63 - 20 - 2;

/** Why `host` is not a DNS host name (RFC 1123; a leading `*.` when `wildcard`); undefined when it is one. */
export function hostNameProblem(host: string, options: { wildcard?: boolean } = {}): string | undefined {
  const name = options.wildcard && host.startsWith('*.') ? host.slice(2) : host;
  if (host.length > 253) return 'is longer than 253 characters';
  const labels = name.split('.');
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) return bad === '' ? 'has an empty label' : `has the label "${bad.slice(0, 70)}"; a label is 1 to 63 lower-case letters, digits and inner "-"`;
  // An all-numeric last label reads as an IPv4 address, not a name (RFC 1123 §2.1).
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'ends in a number; a host name ends in a label with a letter';
  return undefined;
}

/** The platform's base domain from configuration (`PLINTH_BASE_DOMAIN`): an InputError naming the problem when it is not one. */
export function parseBaseDomain(value: string, source = 'the base domain'): string {
  const problem = baseDomainProblem(value);
  if (problem !== undefined) throw new InputError(`${source}: "${value.slice(0, 80)}" ${problem}; use a domain such as localhost or apps.example.com`);
  return normalizedDomain(value);
}

const normalizedDomain = (value: string) => value.trim().toLowerCase().replace(/\.$/, '');

/** Why `value` cannot be the base domain (case and a final dot aside); undefined when it can. */
export function baseDomainProblem(value: string): string | undefined {
  const domain = normalizedDomain(value);
  return domain.length > BASE_DOMAIN_MAX ? `is longer than ${BASE_DOMAIN_MAX} characters (room is kept for <service>.<environment>.)` : hostNameProblem(domain);
}

/** The host name the gateway routes to a service in an environment. */
export function gatewayHost(service: string, environment: string, baseDomain: string = DEFAULT_BASE_DOMAIN): string {
  return `${service}.${environment}.${baseDomain}`;
}

/** The service and environment whose own gateway host `host` is (`<service>.<environment>.<baseDomain>`), if it is one. */
export function gatewayHostOwner(host: string, baseDomain: string = DEFAULT_BASE_DOMAIN): { service: string; environment: string } | undefined {
  const suffix = `.${baseDomain}`;
  if (!host.endsWith(suffix)) return undefined;
  const labels = host.slice(0, -suffix.length).split('.');
  return labels.length === 2 ? { service: labels[0]!, environment: labels[1]! } : undefined;
}
