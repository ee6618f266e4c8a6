/**
 * `npm run bench:resources`: time-to-provision of resource claims, one JSON line on stdout (progress on stderr).
 *
 * - Small PostgreSQL and Redis claims one after another: from the claim call (plan, admission, insert,
 *   job) to the claim being ready, as percentiles. Baseline in the same invocation: the bare SQL a DBA
 *   would type (CREATE ROLE + CREATE DATABASE + REVOKE) over one open admin connection.
 * - 50 concurrent PostgreSQL claims: wall time to all ready, and the server checked for exactly 50
 *   databases and 50 roles (no duplicates) that each map to a claim (no orphans). One team's budget
 *   decisions take turns, so the same burst spread over 50 teams runs first as its baseline.
 *
 * The platform runs on PostgreSQL (its own store) and provisions on the local servers (issue #8 targets:
 * a small PostgreSQL claim ready in < 2 s; 50 concurrent claims → 50 databases, 50 roles, 0 duplicates, 0 orphans).
 *
 *   node dist/bench/resources/index.js [--claims 20] [--concurrent 50]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { createLogger, type Principal } from '../../src/kernel/index.js';
import { benchConfig, cleanupAll, onCleanup, round, summarize, tempDir } from '../kernel/util.js';

const { values: flags } = parseArgs({ options: { claims: { type: 'string', default: '20' }, concurrent: { type: 'string', default: '50' } }, strict: true });
const sequential = Number(flags.claims);
const concurrent = Number(flags.concurrent);
if (!(sequential >= 5) || !(concurrent >= 1)) throw new Error('--claims must be ≥ 5 and --concurrent ≥ 1');

const adminUrl = process.env.PLINTH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.PLINTH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const rabbitManagement = process.env.PLINTH_RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const rabbitAuth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
/** One RabbitMQ management API call as the guest administrator (the bench's baseline and cleanup). */
async function rabbit(method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${rabbitManagement}/api/${path}`, { method, headers: { authorization: rabbitAuth, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  await res.arrayBuffer();
  return res.status;
}
const system: Principal = { kind: 'system', name: 'bench' };
const env = `b${Date.now().toString(36)}`;
const tags = { owner: 'group:default/bench', 'cost-center': 'cc-bench' };

function progress(message: string): void {
  process.stderr.write(`[bench:resources] ${message}\n`);
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg1mAtStart: round(loadavg()[0] ?? 0) };
  const storeDb = `plinth_bench_resources_${Date.now().toString(36)}`;
  await withAdmin((c) => c.query(`create database "${storeDb}"`));
  const storeUrl = Object.assign(new URL(adminUrl), { pathname: `/${storeDb}` }).toString();
  onCleanup(async () => {
    const redis = new Redis(redisUrl);
    try {
      for (const user of (await redis.call('ACL', 'USERS')) as string[]) if (user.startsWith(`pl_${env}__`)) await redis.call('ACL', 'DELUSER', user);
    } finally {
      redis.disconnect();
    }
  });
  const rabbitUp = await rabbit('GET', 'overview').then((status) => status === 200, () => false);
  onCleanup(async () => {
    if (!rabbitUp) return;
    for (let i = 0; i < sequential; i++) {
      for (const name of [`pl_${env}__bus_${i}`, `pl_${env}__rawbus_${i}`]) {
        await rabbit('DELETE', `vhosts/${name}`);
        await rabbit('DELETE', `users/${name}`);
      }
    }
  });
  const dataDir = tempDir('resources');
  onCleanup(async () => {
    await withAdmin(async (c) => {
      for (const { datname } of (await c.query<{ datname: string }>('select datname from pg_database where datname like $1', [`pl\\_${env}\\_\\_%`])).rows) await c.query(`drop database if exists "${datname}" with (force)`);
      for (const { rolname } of (await c.query<{ rolname: string }>('select rolname from pg_roles where rolname like $1', [`pl\\_${env}\\_\\_%`])).rows) await c.query(`drop role if exists "${rolname}"`);
      await c.query(`drop database if exists "${storeDb}" with (force)`);
    });
  });

  const config = benchConfig({ dataDir, databaseUrl: storeUrl }, true);
  const app = await buildApp({ ...config, jobs: { ...config.jobs, concurrency: 8 } }, { logger: createLogger({ level: 'silent', pretty: false }) });
  onCleanup(() => app.stop());
  await app.start();

  const readyAt = new Map<string, (at: number) => void>();
  const subscription = app.kernel.ledger.subscribe({ kinds: ['resources.claim.provisioned'], afterSeq: await app.kernel.ledger.lastSeq() }, (event) => {
    readyAt.get(String(event.payload.claimId))?.(performance.now());
  });
  await subscription.ready;
  onCleanup(() => subscription.close());

  async function claimOnce(module: string, name: string, claimTags: Record<string, string> = tags): Promise<number> {
    const start = performance.now();
    let resolveReady!: (at: number) => void;
    const ready = new Promise<number>((resolve) => (resolveReady = resolve));
    const { claim } = await app.resources.claim(system, { module, name, environment: env, inputs: {}, tags: claimTags });
    readyAt.set(claim.id, resolveReady);
    // The event may have fired before the listener was set: the row says so.
    const current = await app.resources.getClaim(system, claim.id);
    if (current.phase === 'ready') resolveReady(performance.now());
    if (current.phase === 'failed') throw new Error(`${name}: ${current.lastError}`);
    const end = await Promise.race([ready, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`${name} not ready within 60 s`)), 60_000))]);
    return end - start;
  }

  progress(`${sequential} small postgres claims, one after another`);
  const postgresMs: number[] = [];
  for (let i = 0; i < sequential; i++) postgresMs.push(await claimOnce('postgres', `seq-${i}`));
  progress(`${sequential} redis claims, one after another`);
  const redisMs: number[] = [];
  for (let i = 0; i < sequential; i++) redisMs.push(await claimOnce('redis', `cache-${i}`));

  const rabbitMs: number[] = [];
  const rabbitBaselineMs: number[] = [];
  if (rabbitUp) {
    progress(`${sequential} rabbitmq-vhost claims, one after another, and the bare management API calls as baseline`);
    for (let i = 0; i < sequential; i++) rabbitMs.push(await claimOnce('rabbitmq-vhost', `bus-${i}`));
    for (let i = 0; i < sequential; i++) {
      const name = `pl_${env}__rawbus_${i}`;
      const start = performance.now();
      await rabbit('PUT', `vhosts/${name}`, {});
      await rabbit('PUT', `users/${name}`, { password: `x${i}`, tags: '' });
      await rabbit('PUT', `permissions/${name}/${name}`, { configure: '.*', write: '.*', read: '.*' });
      await rabbit('PUT', `vhost-limits/${name}/max-connections`, { value: 20 });
      rabbitBaselineMs.push(performance.now() - start);
    }
  } else progress('RabbitMQ management API unavailable: rabbitmq figures skipped');

  progress(`baseline: bare CREATE ROLE + CREATE DATABASE + REVOKE, ${sequential} times`);
  const baselineMs = await withAdmin(async (c) => {
    const samples: number[] = [];
    for (let i = 0; i < sequential; i++) {
      const name = `pl_${env}__raw_${i}`;
      const start = performance.now();
      await c.query(`create role "${name}" login password 'x${i}' connection limit 10`);
      await c.query(`create database "${name}" owner "${name}"`);
      await c.query(`revoke all on database "${name}" from public`);
      samples.push(performance.now() - start);
    }
    return samples;
  });

  // Budget and claim-limit decisions of one team take turns (so concurrent claims cannot overrun them):
  // the burst of one team, against the same burst spread over as many teams (decisions in parallel).
  progress(`${concurrent} concurrent postgres claims of ${concurrent} teams`);
  const spreadStart = performance.now();
  const spreadMs = await Promise.all(Array.from({ length: concurrent }, (_, i) => claimOnce('postgres', `spread-${i}`, { owner: `group:default/bench-${i}`, 'cost-center': `cc-bench-${i}` })));
  const spreadWallMs = performance.now() - spreadStart;
  progress(`${concurrent} concurrent postgres claims of one team`);
  const burstStart = performance.now();
  // A team of its own: the sequential claims above count against the module's per-team limit (50).
  const burstMs = await Promise.all(Array.from({ length: concurrent }, (_, i) => claimOnce('postgres', `burst-${i}`, { owner: 'group:default/bench-burst', 'cost-center': 'cc-bench' })));
  const burstWallMs = performance.now() - burstStart;
  const claims = await app.resources.listClaims(system, { environment: env, limit: 500 });
  const expected = new Set(claims.filter((c) => c.module === 'postgres' && c.name.startsWith('burst-')).map((c) => c.outputs.database));
  const onServer = await withAdmin(async (c) => ({
    databases: (await c.query<{ datname: string }>('select datname from pg_database where datname like $1', [`pl\\_${env}\\_\\_burst\\_%`])).rows.map((r) => r.datname),
    roles: (await c.query<{ rolname: string }>('select rolname from pg_roles where rolname like $1', [`pl\\_${env}\\_\\_burst\\_%`])).rows.map((r) => r.rolname),
  }));
  const orphans = [...onServer.databases, ...onServer.roles].filter((n) => !expected.has(n)).length;
  const duplicates = onServer.databases.length - new Set(onServer.databases).size + (onServer.roles.length - new Set(onServer.roles).size);

  const postgres = summarize(postgresMs);
  const redis = summarize(redisMs);
  const baseline = summarize(baselineMs);
  const p95 = (values: number[]) => round([...values].sort((a, b) => a - b)[Math.ceil(0.95 * values.length) - 1]!, 1);
  const figures = {
    bench: 'resources',
    machine,
    store: 'postgres',
    postgresClaimMs: { n: postgres.n, p50: round(postgres.p50, 1), p95: p95(postgresMs), max: round(postgres.max, 1) },
    redisClaimMs: { n: redis.n, p50: round(redis.p50, 1), p95: p95(redisMs), max: round(redis.max, 1) },
    ...(rabbitMs.length > 0
      ? {
          rabbitmqClaimMs: { n: rabbitMs.length, p50: round(summarize(rabbitMs).p50, 1), p95: p95(rabbitMs) },
          rabbitmqBareApiMs: { n: rabbitBaselineMs.length, p50: round(summarize(rabbitBaselineMs).p50, 1), p95: p95(rabbitBaselineMs) },
          rabbitmqClaimOverBareApi: round(summarize(rabbitMs).p50 / summarize(rabbitBaselineMs).p50),
        }
      : { rabbitmqClaimMs: null }),
    baselineBareSqlMs: { n: baseline.n, p50: round(baseline.p50, 1), p95: p95(baselineMs) },
    postgresClaimOverBareSql: round(postgres.p50 / baseline.p50),
    concurrent: { claims: concurrent, wallMs: round(burstWallMs, 0), p50: round(summarize(burstMs).p50, 0), p95: p95(burstMs), databases: onServer.databases.length, roles: onServer.roles.length, duplicates, orphans },
    concurrentManyTeams: { claims: concurrent, wallMs: round(spreadWallMs, 0), p50: round(summarize(spreadMs).p50, 0), p95: p95(spreadMs) },
    oneTeamOverManyTeamsWall: round(burstWallMs / spreadWallMs),
    targets: {
      smallPostgresClaimP95Ms: { target: 2000, met: p95(postgresMs) < 2000 },
      concurrentExact: { target: `${concurrent} databases, ${concurrent} roles, 0 duplicates, 0 orphans`, met: onServer.databases.length === concurrent && onServer.roles.length === concurrent && duplicates === 0 && orphans === 0 },
    },
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

try {
  await main();
} finally {
  await cleanupAll();
}
