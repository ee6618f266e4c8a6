import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { join } from 'node:path';
import { auditRoutes } from './audit/routes.js';
import { createAudit, type Audit } from './audit/service.js';
import { authMigrations } from './auth/migrations.js';
import { authRoutes } from './auth/routes.js';
import { createAuth, type Auth } from './auth/service.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { healthRoutes } from './http/health.js';
import { createServer, type Server } from './http/server.js';
import { createEventStreams, type EventStreams } from './http/sse.js';
import { jobRoutes } from './jobs/routes.js';
import { jobsMigrations } from './jobs/migrations.js';
import { createJobs, type Jobs, type Worker } from './jobs/service.js';
import { ledgerMigrations } from './ledger/migrations.js';
import { ledgerRoutes } from './ledger/routes.js';
import { createLedger, type Ledger } from './ledger/service.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createStore, type Migration, type Store } from './store/index.js';

export { parseConfig, type Config } from './config.js';
export { createLogger, type Logger } from './log.js';
export { systemClock, newId, newSecret, toIso, type Clock } from './clock.js';
export {
  PlinthError,
  InputError,
  AuthenticationError,
  NotAllowedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  TooManyRequestsError,
  NotImplementedError,
  ServiceUnavailableError,
  statusForError,
  type ErrorResponseBody,
} from './errors.js';
export { createStore, sqlBool, type Db, type Tx, type Store, type Migration, type Dialect, type Ddl } from './store/index.js';
export type { EventPayloads, EventKind, NewEvent, LedgerEvent, EventFilter, LedgerEventView } from './ledger/model.js';
export type { Ledger, Subscription } from './ledger/service.js';
export type { Job, JobState, ClaimedJob, EnqueueInput, JobOutcome, JobContext, JobHandler, JobProgress } from './jobs/model.js';
export { isTerminal, backoffMs } from './jobs/model.js';
export type { Jobs, Worker, WorkerOptions } from './jobs/service.js';
export {
  authorize,
  decideAccess,
  userRef,
  principalRef,
  roles,
  tokenScopes,
  type Principal,
  type Permission,
  type ResourceRef,
  type Role,
  type TokenScope,
  type UserView,
  type TokenView,
  type CreatedToken,
  type MeView,
  type LoginView,
  type CreateUserInput,
  type UpdateUserInput,
  type CreateTokenInput,
} from './auth/model.js';
export type { Auth, OwnershipResolver } from './auth/service.js';
export type { AuditEntry } from './audit/model.js';
export type { StatusView } from './http/health.js';
export type { Server } from './http/server.js';
export type { EventStream, EventStreams } from './http/sse.js';
export { errorResponses, idParam, ErrorBody } from './http/schemas.js';
export { frontOf, type Front, type FrontExchange, type ResponseWatcher } from './http/h1/front.js';
export { scanFieldLine, type FieldLineBounds } from './http/h1/field-line.js';
export type { Metrics } from './metrics.js';
export { createWorkerPool, WorkerUnavailableError, type WorkerPool } from './worker-pool.js';
export { startWorkerThread } from './worker-thread.js';
export { spawnOffThread, type OffThreadChild, type OffThreadSpawnOptions } from './spawn-pool.js';
export { isInside } from './paths.js';
export { baseDomainProblem, DEFAULT_BASE_DOMAIN, gatewayHost, gatewayHostOwner, hostNameProblem, parseBaseDomain } from './host-names.js';

/** Everything the layers stand on. */
export interface Kernel {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: Store;
  ledger: Ledger;
  jobs: Jobs;
  auth: Auth;
  audit: Audit;
  metrics: Metrics;
  streams: EventStreams;
  server: Server;
  /** The kernel's own migrations; the app adds each layer's before migrating. */
  migrations: readonly Migration[];
  /** Mounts the kernel's routes (health, auth, users, audit, events, jobs, status, OpenAPI). */
  registerRoutes(): Promise<void>;
  /** Migrates, then starts the embedded worker. Returns the first admin's credentials when it was just created. */
  start(layerMigrations: readonly Migration[]): Promise<{ admin?: { username: string; password: string; generated: boolean } }>;
  stop(): Promise<void>;
}

export async function createKernel(config: Config, options: { clock?: Clock; logger?: Logger; version: string; /** Built portal (web/dist); not served when absent. */ webDir: string }): Promise<Kernel> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel, pretty: config.prettyLogs });
  const store = createStore({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, sqliteFile: join(config.dataDir, 'plinth.db'), logger: logger.child({ layer: 'store' }) });
  // The queue-depth gauge reads jobs at scrape time, after jobs exists (jobs itself needs metrics).
  const metrics = createMetrics(() => jobs.counts());
  const ledger = createLedger({ store, clock, logger: logger.child({ layer: 'ledger' }), metrics });
  const jobs = createJobs({ store, ledger, clock, logger: logger.child({ layer: 'jobs' }), metrics });
  const auth = createAuth({ store, ledger, clock, sessionIdleS: config.sessionIdleS });
  const audit = createAudit({ store, logger });
  const streams = createEventStreams();
  const server = await createServer({ logger, clock, dialect: store.dialect, auth, audit, metrics, bodyLimitBytes: config.bodyLimitBytes, webDir: options.webDir });
  const startedAt = Date.now();
  const migrations = [...ledgerMigrations, ...jobsMigrations, ...authMigrations];
  let worker: Worker | undefined;

  return {
    config, clock, logger, store, ledger, jobs, auth, audit, metrics, streams, server, migrations,
    async registerRoutes() {
      await server.register(swagger, {
        openapi: {
          info: { title: 'Plinth API', version: options.version, description: 'Internal Developer Platform API. Authenticate with "Authorization: Bearer <API token>".' },
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
          security: [{ bearer: [] }],
        },
        transform: jsonSchemaTransform,
      });
      await server.register(swaggerUi, { routePrefix: '/api/reference', uiConfig: { deepLinking: true }, uiHooks: {}, staticCSP: false });
      server.get('/api/openapi.json', { schema: { hide: true } }, async () => (server as unknown as FastifyInstance).swagger());
      await server.register(healthRoutes({ store, jobs, ledger, metrics, version: options.version, startedAt }));
      await server.register(authRoutes(auth, false), { prefix: '/api' });
      await server.register(auditRoutes(audit), { prefix: '/api' });
      await server.register(ledgerRoutes(ledger, streams), { prefix: '/api' });
      await server.register(jobRoutes(jobs), { prefix: '/api' });
    },
    async start(layerMigrations) {
      await store.migrate([...migrations, ...layerMigrations]);
      const admin = await auth.bootstrapAdmin(config.adminPassword);
      if (config.jobs.workerEnabled && config.jobs.concurrency > 0) {
        worker = jobs.startWorker({ concurrency: config.jobs.concurrency, leaseMs: config.jobs.leaseMs });
      }
      return admin ? { admin } : {};
    },
    async stop() {
      streams.closeAll();
      ledger.stop();
      await worker?.stop(config.jobs.drainMs);
      await store.destroy();
    },
  };
}
