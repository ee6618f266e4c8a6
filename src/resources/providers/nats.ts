/** NATS JetStream provider: a stream on the claim's subjects (`<environment>.<name>.>`) with limits. */
import { connect, nanos, StorageType, type NatsConnection, type StreamConfig } from 'nats';
import type { Provider, ProvisionContext } from './provider.js';

const isNotFound = (err: unknown) => /not found/i.test((err as Error).message) || (err as { api_error?: { err_code?: number } }).api_error?.err_code === 10059;

export function createNatsProvider(serverUrl: string): Provider {
  const url = new URL(serverUrl.replace(/^nats:/, 'http:'));
  const host = url.hostname;
  const port = url.port || '4222';
  let connection: Promise<NatsConnection> | undefined;
  const nc = () => {
    connection ??= connect({ servers: `${host}:${port}`, timeout: 3000, reconnect: true }).catch((err: unknown) => {
      connection = undefined;
      throw err;
    });
    return connection;
  };
  const config = (ctx: ProvisionContext): Partial<StreamConfig> & { name: string } => ({
    name: ctx.names.natsStream,
    subjects: [ctx.names.natsSubjects],
    storage: StorageType.File,
    num_replicas: 1,
    max_bytes: Number(ctx.claim.inputs.maxBytes ?? -1),
    max_msgs: Number(ctx.claim.inputs.maxMessages ?? -1),
    max_age: nanos(Number(ctx.claim.inputs.maxAgeHours ?? 0) * 3_600_000),
  });

  return {
    name: 'nats-stream',
    async unavailable() {
      try {
        const jsm = await (await nc()).jetstreamManager({ timeout: 3000 });
        await jsm.getAccountInfo();
        return undefined;
      } catch (err) {
        return `NATS JetStream at ${host}:${port} is unavailable (${(err as Error).message})`;
      }
    },
    steps: [
      {
        name: 'stream',
        async run(ctx) {
          const jsm = await (await nc()).jetstreamManager();
          try {
            await jsm.streams.info(ctx.names.natsStream);
          } catch (err) {
            if (!isNotFound(err)) throw err;
            await jsm.streams.add(config(ctx));
            return;
          }
          // It exists (an earlier attempt): set the limits to what the claim says.
          const { name, storage: _storage, ...update } = config(ctx);
          await jsm.streams.update(name, update);
        },
      },
    ],
    async outputs(ctx) {
      return { host, port, url: `nats://${host}:${port}`, stream: ctx.names.natsStream, subjects: ctx.names.natsSubjects };
    },
    async observe(ctx) {
      const jsm = await (await nc()).jetstreamManager();
      try {
        const info = await jsm.streams.info(ctx.names.natsStream);
        return info.config.subjects?.join(',') === ctx.names.natsSubjects ? [] : [`stream ${ctx.names.natsStream} listens on ${info.config.subjects?.join(', ') ?? 'no subjects'}, not ${ctx.names.natsSubjects}`];
      } catch (err) {
        if (isNotFound(err)) return [`stream ${ctx.names.natsStream} does not exist`];
        throw err;
      }
    },
    async backup() {
      return undefined;
    },
    async inventory() {
      const jsm = await (await nc()).jetstreamManager({ timeout: 3000 });
      const names: string[] = [];
      for await (const name of jsm.streams.names()) if (name.startsWith('PL_')) names.push(name);
      return names.map((name) => ({ kind: 'stream', name }));
    },
    async destroy(ctx) {
      const jsm = await (await nc()).jetstreamManager();
      try {
        await jsm.streams.delete(ctx.names.natsStream);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    async close() {
      const current = connection;
      connection = undefined;
      if (current) await (await current.catch(() => undefined))?.close();
    },
  };
}
