import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** Request latency by method, route and status: one observation per HTTP request. */
export interface HttpDurations {
  observe(method: string, route: string, statusCode: number, seconds: number): void;
}

/** Prometheus metrics of one app instance (its own registry, so several apps can share a process in tests). */
export interface Metrics {
  registry: Registry;
  httpDuration: HttpDurations;
  eventsAppended: Counter;
  jobsFinished: Counter<'kind' | 'state'>;
  /** Set by the jobs service's collector at scrape time. */
  jobQueueDepth: Gauge<'state'>;
}

export function createMetrics(collectQueueDepth: () => Promise<Record<string, number>>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'plinth_' });
  return {
    registry,
    httpDuration: createHttpDurations(registry, 'plinth_http_request_duration_seconds', 'HTTP request latency by route and status'),
    eventsAppended: new Counter({
      name: 'plinth_ledger_events_appended_total',
      help: 'Events appended to the ledger (rate() gives the append rate)',
      registers: [registry],
    }),
    jobsFinished: new Counter({
      name: 'plinth_jobs_finished_total',
      help: 'Jobs that reached a terminal state, by kind and state',
      labelNames: ['kind', 'state'] as const,
      registers: [registry],
    }),
    jobQueueDepth: new Gauge({
      name: 'plinth_job_queue_depth',
      help: 'Jobs by state (queued, running, dead)',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        const depth = await collectQueueDepth().catch(() => undefined);
        if (!depth) return;
        for (const [state, n] of Object.entries(depth)) this.set({ state }, n);
      },
    }),
  };
}

const HTTP_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

interface Series {
  labels: { method: string; route: string; status_code: string };
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * The HTTP latency histogram, in the registry as a Prometheus histogram like prom-client's own.
 * prom-client's `observe` validates and hashes the label object and indexes buckets by their bound
 * as a string key, about a microsecond per call — a tenth of a whole /healthz request — so the
 * series live in maps keyed by the (interned) route, method and status, formatted at scrape time.
 */
export function createHttpDurations(registry: Registry, name: string, help: string): HttpDurations {
  const byRoute = new Map<string, Map<string, Map<number, Series>>>();
  const seriesFor = (method: string, route: string, statusCode: number): Series => {
    let byMethod = byRoute.get(route);
    if (!byMethod) byRoute.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(statusCode);
    if (!series) {
      series = { labels: { method, route, status_code: String(statusCode) }, counts: new Array<number>(HTTP_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 };
      byStatus.set(statusCode, series);
    }
    return series;
  };
  const allSeries = function* () {
    for (const byMethod of byRoute.values()) for (const byStatus of byMethod.values()) yield* byStatus.values();
  };
  // The shape prom-client's registry reads from each metric (`get`, `reset`, name, help, type, aggregator).
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const s of allSeries()) {
        let cumulative = 0;
        HTTP_BUCKETS_S.forEach((le, i) => {
          cumulative += s.counts[i]!;
          values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${name}_bucket` });
        });
        values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${name}_bucket` });
        values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${name}_sum` });
        values.push({ labels: { ...s.labels }, value: s.count, metricName: `${name}_count` });
      }
      return Promise.resolve({ name, help, type: 'histogram', values, aggregator: 'sum' });
    },
    reset() {
      byRoute.clear();
    },
  };
  registry.registerMetric(metric as unknown as Metric);
  return {
    observe(method, route, statusCode, seconds) {
      const series = seriesFor(method, route, statusCode);
      let i = 0;
      while (i < HTTP_BUCKETS_S.length && seconds > HTTP_BUCKETS_S[i]!) i++;
      series.counts[i]! += 1;
      series.sum += seconds;
      series.count += 1;
    },
  };
}
