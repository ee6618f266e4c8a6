/**
 * DNS name provider: a host name the built-in gateway routes, `<service>.<environment>.<base domain>`
 * (DESIGN: gateway on 7080, routed by host). With the default base domain `localhost`, names resolve
 * to loopback without a DNS server (RFC 6761 §6.3); with a domain of the organisation's, a wildcard
 * record `*.<base domain>` pointing at the gateway serves every claim. Either way the claim is the
 * reservation: one live claim per host name.
 */
import { gatewayHost, hostNameProblem } from '../../kernel/index.js';
import type { Provider } from './provider.js';

/** The host a DNS claim reserves: its `service` input, else the claim name, in its environment. */
export function dnsHost(claim: { name: string; environment: string; inputs: Record<string, unknown> }, baseDomain: string): string {
  return gatewayHost(typeof claim.inputs.service === 'string' ? claim.inputs.service : claim.name, claim.environment, baseDomain);
}

export function createDnsProvider(baseDomain: string): Provider {
  return {
    name: 'dns',
    unavailable: async () => undefined,
    checkInputs(claim) {
      // A published module may loosen the `service` pattern; the host must still be one name of this environment.
      const service = claim.inputs.service;
      if (service !== undefined && (typeof service !== 'string' || service.includes('.') || hostNameProblem(service) !== undefined)) return [`inputs.service: ${JSON.stringify(service).slice(0, 80)} is not a DNS label; use lower-case letters, digits and inner "-"`];
      const problem = hostNameProblem(dnsHost(claim, baseDomain));
      return problem === undefined ? [] : [`the host name ${dnsHost(claim, baseDomain)} ${problem}`];
    },
    steps: [],
    async outputs(ctx) {
      return { host: dnsHost(ctx.claim, baseDomain) };
    },
    observe: async () => [],
    backup: async () => undefined,
    destroy: async () => undefined,
    close: async () => undefined,
  };
}
