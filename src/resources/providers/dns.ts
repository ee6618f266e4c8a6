/**
 * DNS name provider: a host name the built-in gateway routes, `<service>.<environment>.localhost`
 * (DESIGN: gateway on 7080, routed by host). `*.localhost` resolves to loopback without a DNS server
 * (RFC 6761 §6.3), so the claim is the reservation: one live claim per host name.
 */
import type { Provider } from './provider.js';

/** The host a DNS claim reserves: its `service` input, else the claim name, in its environment. */
export function dnsHost(claim: { name: string; environment: string; inputs: Record<string, unknown> }): string {
  return `${typeof claim.inputs.service === 'string' ? claim.inputs.service : claim.name}.${claim.environment}.localhost`;
}

export function createDnsProvider(): Provider {
  return {
    name: 'dns',
    unavailable: async () => undefined,
    steps: [],
    async outputs(ctx) {
      return { host: dnsHost(ctx.claim) };
    },
    observe: async () => [],
    backup: async () => undefined,
    destroy: async () => undefined,
    close: async () => undefined,
  };
}
