import { Counter, Histogram, type Registry } from 'prom-client';

/** Upper bounds (ms) of the latency histogram kept per release; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** What the gateway saw for one release of a service: what canary analysis reads. */
export interface ReleaseTrafficStats {
  releaseId: string;
  requests: number;
  statusClasses: Record<StatusClass, number>;
  latency: { bucketsMs: readonly number[]; counts: number[]; sumMs: number };
}

export const statusClassOf = (status: number): StatusClass => (status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : status >= 200 ? '2xx' : '1xx');

/** Per-release counters in memory (read by the service API) and in Prometheus (read by /metrics). */
export interface TrafficStats {
  record(service: string, environment: string, releaseId: string, status: number, durationMs: number): void;
  of(service: string, environment: string): ReleaseTrafficStats[];
}

/** The Prometheus series of one release, bound once: prom-client hashes the labels on every unbound call. */
interface BoundSeries {
  requests: Partial<Record<StatusClass, { inc(): void }>>;
  duration: { observe(value: number): void } | undefined;
}

export function createTrafficStats(registry: Registry | undefined): TrafficStats {
  const byRoute = new Map<string, Map<string, ReleaseTrafficStats>>();
  const bound = new WeakMap<ReleaseTrafficStats, BoundSeries>();
  const requests = registry
    ? new Counter({ name: 'plinth_gateway_requests_total', help: 'Requests the gateway proxied, by service, environment, release and status class', labelNames: ['service', 'environment', 'release', 'status_class'] as const, registers: [registry] })
    : undefined;
  const duration = registry
    ? new Histogram({
        name: 'plinth_gateway_request_duration_seconds',
        help: 'Time from request to the end of the upstream response, by release',
        labelNames: ['service', 'environment', 'release'] as const,
        buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
        registers: [registry],
      })
    : undefined;
  return {
    record(service, environment, releaseId, status, durationMs) {
      const key = `${service}.${environment}`;
      let route = byRoute.get(key);
      if (!route) byRoute.set(key, (route = new Map()));
      let s = route.get(releaseId);
      if (!s) {
        s = { releaseId, requests: 0, statusClasses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, latency: { bucketsMs: LATENCY_BUCKETS_MS, counts: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0), sumMs: 0 } };
        route.set(releaseId, s);
        bound.set(s, { requests: {}, duration: duration?.labels({ service, environment, release: releaseId }) });
      }
      const series = bound.get(s)!;
      const cls = statusClassOf(status);
      s.requests += 1;
      s.statusClasses[cls] += 1;
      let i = LATENCY_BUCKETS_MS.findIndex((b) => durationMs <= b);
      if (i < 0) i = LATENCY_BUCKETS_MS.length;
      s.latency.counts[i]! += 1;
      s.latency.sumMs += durationMs;
      if (requests) (series.requests[cls] ??= requests.labels({ service, environment, release: releaseId, status_class: cls })).inc();
      series.duration?.observe(durationMs / 1000);
    },
    of(service, environment) {
      return [...(byRoute.get(`${service}.${environment}`)?.values() ?? [])].map((s) => ({ ...s, statusClasses: { ...s.statusClasses }, latency: { ...s.latency, counts: [...s.latency.counts] } }));
    },
  };
}
