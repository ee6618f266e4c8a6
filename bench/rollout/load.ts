import { Agent, request } from 'node:http';

/** Steady HTTP load through the gateway to one service, counting answers per release and status. */
export interface Load {
  /** Answers per release id: total and 5xx. */
  byRelease(): Map<string, { total: number; errors: number }>;
  /** The release that answered the last request. */
  last(): { release: string | undefined; at: number } | undefined;
  stop(): Promise<void>;
}

/** `workers` loops each sending GET `path` to `host` via the gateway, pausing `pauseMs` between requests. */
export function startLoad(port: number, host: string, options: { workers?: number; pauseMs?: number; path?: string; onAnswer?: (release: string | undefined, status: number) => void } = {}): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: options.workers ?? 3 });
  const counts = new Map<string, { total: number; errors: number }>();
  let last: { release: string | undefined; at: number } | undefined;
  let running = true;
  const once = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: options.path ?? '/', agent, headers: { host } }, (res) => {
        res.resume();
        res.on('end', () => {
          const release = res.headers['x-plinth-release'] as string | undefined;
          const status = res.statusCode ?? 0;
          const c = counts.get(release ?? '-') ?? { total: 0, errors: 0 };
          c.total++;
          if (status >= 500) c.errors++;
          counts.set(release ?? '-', c);
          last = { release, at: Date.now() };
          options.onAnswer?.(release, status);
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
  const loops = Array.from({ length: options.workers ?? 3 }, async () => {
    while (running) {
      await once();
      if ((options.pauseMs ?? 5) > 0) await new Promise((r) => setTimeout(r, options.pauseMs ?? 5));
    }
  });
  return {
    byRelease: () => counts,
    last: () => last,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}
