import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one app instance (its own registry, so several apps can share a process in tests). */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
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
    httpDuration: new Histogram({
      name: 'plinth_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
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
