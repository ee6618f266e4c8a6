/**
 * Route provider (Score `route`): a host name and path the built-in gateway sends to a service, in
 * addition to its own `<service>.<environment>.<base domain>`. The claim is the reservation (one per
 * host and path, hosts belong to one team); the route takes effect when the workload that uses it is
 * deployed, as its workload spec's `routes` (the runtime puts them on the gateway with the release).
 */
import { gatewayHost, gatewayHostOwner, hostNameProblem } from '../../kernel/index.js';
import { routePathProblem } from '../../runtime/index.js';
import type { Provider } from './provider.js';

export function createRouteProvider(baseDomain: string): Provider {
  return {
    name: 'route',
    unavailable: async () => undefined,
    checkInputs(claim) {
      const { host, path, service } = claim.inputs;
      const problems: string[] = [];
      if (typeof host !== 'string' || hostNameProblem(host) !== undefined) problems.push(`inputs.host: ${JSON.stringify(host)?.slice(0, 80)} is not a host name${typeof host === 'string' ? ` (it ${hostNameProblem(host)})` : ''}`);
      const pathProblem = typeof path === 'string' ? routePathProblem(path) : 'inputs.path must be a string';
      if (pathProblem !== undefined) problems.push(`inputs.path: ${pathProblem}`);
      if (typeof service !== 'string' || service.includes('.') || hostNameProblem(service) !== undefined) problems.push(`inputs.service: ${JSON.stringify(service)?.slice(0, 80)} is not a service name`);
      if (problems.length > 0) return problems;
      // `<x>.<environment>.<base domain>` is service x's own host: a route there belongs to x alone.
      const owner = gatewayHostOwner(host as string, baseDomain);
      if (owner && (owner.service !== service || owner.environment !== claim.environment)) {
        problems.push(`inputs.host: ${String(host)} is the host of service ${owner.service} in ${owner.environment}; route ${String(service)}'s own host (${gatewayHost(service as string, claim.environment, baseDomain)}) or a name of your own`);
      }
      return problems;
    },
    steps: [],
    async outputs(ctx) {
      const { host, path, port } = ctx.claim.inputs;
      return { host: String(host), path: String(path ?? '/'), port: port === undefined ? '' : String(port) };
    },
    observe: async () => [],
    backup: async () => undefined,
    destroy: async () => undefined,
    close: async () => undefined,
  };
}
