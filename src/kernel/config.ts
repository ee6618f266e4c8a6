import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CONFIG_FILE, configFileKeyOf, readConfigFile } from './config-file.js';
import { InputError } from './errors.js';
import { baseDomainProblem, DEFAULT_BASE_DOMAIN, parseBaseDomain } from './host-names.js';

/** Plinth's configuration, parsed once from argv and env; layers receive their slice of it. */
export interface Config {
  host: string;
  port: number;
  /** The gateway for deployed services (`<service>.<environment>.<baseDomain>`); 0 picks a free port. */
  gatewayPort: number;
  /** The domain gateway host names end in: `<service>.<environment>.<baseDomain>` (default `localhost`). */
  baseDomain: string;
  /** Data directory: SQLite database, repositories, artifacts, keys. */
  dataDir: string;
  /** `postgres://…` selects PostgreSQL; undefined means SQLite at `<dataDir>/plinth.db`. */
  databaseUrl: string | undefined;
  /** PostgreSQL connections the server keeps at most (node-postgres's default, 10, unless set). */
  databasePoolSize: number;
  /** Password for the admin user created on first start; generated and printed once when unset. */
  adminPassword: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Pretty, human log lines on a terminal; JSON lines otherwise. */
  prettyLogs: boolean;
  bodyLimitBytes: number;
  jobs: { workerEnabled: boolean; concurrency: number; leaseMs: number; drainMs: number };
  /** Seconds an HTTP session lives without use. */
  sessionIdleS: number;
  /** Load the demo organisation into the catalog on first start. */
  demo: boolean;
  /** Register the golden-path templates of templates/ in the catalog on every start. */
  builtinTemplates: boolean;
  catalog: {
    /** File locations and `$text` placeholders of file locations must stay inside this folder. */
    fileRoot: string;
    /** Seconds between scheduled refreshes of each registered location. */
    refreshIntervalS: number;
  };
  resources: {
    /** Admin connections of the servers the resource providers provision on (never taken from claims). */
    postgresUrl: string;
    redisUrl: string;
    natsUrl: string;
    /** AMQP URL of RabbitMQ (admin user); its management HTTP API is `rabbitmqManagementUrl`. */
    rabbitmqUrl: string;
    rabbitmqManagementUrl: string;
    /** Seconds old credentials keep working after a rotation before they are revoked. */
    rotationGraceS: number;
    /** Base64 of a 32-byte master key for the secret store; unset means `<dataDir>/keys/secrets.key`. */
    secretsKey: string | undefined;
    /** Base64 master keys that wrapped data keys before a rotation (PLINTH_SECRETS_PREVIOUS_KEYS); they unwrap, never seal. */
    secretsPreviousKeys: string[];
    /** Days a deprovisioned resource's final backup is kept. */
    backupRetentionDays: number;
    /** Seconds between drift checks of every claim. */
    driftIntervalS: number;
  };
  /** Encrypts the platform's signing keys at rest when set (else only the 0600 file mode protects them). */
  signingKeyPassphrase: string | undefined;
  /** A kubeconfig file: releases run in that cluster (Kubernetes driver) instead of as local processes. */
  kubeconfig: string | undefined;
  /** Whether this server runs pipelines itself; false leaves them to external runners (`plinth runner`). */
  embeddedRunner: boolean;
}

const envSchema = z.object({
  PLINTH_HOST: z.string().min(1).optional(),
  PLINTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PLINTH_GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // RFC 1123, with room for `<service>.<environment>.` within DNS's 253 characters (host-names.ts).
  PLINTH_BASE_DOMAIN: z
    .string()
    .superRefine((value, ctx) => {
      const problem = baseDomainProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `must be a domain name such as apps.example.com: it ${problem}` });
    })
    .optional(),
  PLINTH_KUBECONFIG: z.string().min(1).optional(),
  PLINTH_EMBEDDED_RUNNER: z.enum(['true', 'false'], { message: 'must be true or false' }).optional(),
  PLINTH_DATA_DIR: z.string().min(1).optional(),
  PLINTH_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave it unset for the embedded SQLite)')
    .optional(),
  PLINTH_DATABASE_POOL_SIZE: z.coerce.number({ message: 'must be a whole number from 2 to 100' }).int('must be a whole number from 2 to 100').min(2, 'must be a whole number from 2 to 100').max(100, 'must be a whole number from 2 to 100').optional(),
  PLINTH_ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  PLINTH_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  PLINTH_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  PLINTH_JOB_CONCURRENCY: z.coerce.number().int().min(0).max(256).optional(),
  PLINTH_CATALOG_FILE_ROOT: z.string().min(1).optional(),
  PLINTH_CATALOG_REFRESH_INTERVAL_S: z.coerce.number().int().min(5).max(86_400).optional(),
  PLINTH_POSTGRES_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  PLINTH_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  PLINTH_NATS_URL: z.string().regex(/^(nats|tls):\/\//, 'must be a nats:// URL').optional(),
  PLINTH_RABBITMQ_URL: z.string().regex(/^amqps?:\/\//, 'must be an amqp:// URL').optional(),
  PLINTH_RABBITMQ_MANAGEMENT_URL: z.string().regex(/^https?:\/\//, 'must be an http:// URL of the RabbitMQ management API').optional(),
  PLINTH_ROTATION_GRACE_S: z.coerce.number().int().min(0).max(30 * 86_400).optional(),
  PLINTH_SECRETS_PREVIOUS_KEYS: z
    .string()
    .transform((v) => v.split(',').map((k) => k.trim()).filter((k) => k !== ''))
    .refine((keys) => keys.every((k) => Buffer.from(k, 'base64').length === 32), 'must be comma-separated 32-byte keys, base64-encoded (openssl rand -base64 32)')
    .optional(),
  PLINTH_SECRETS_KEY: z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)').optional(),
  PLINTH_BACKUP_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).optional(),
  PLINTH_DRIFT_INTERVAL_S: z.coerce.number().int().min(1).max(86_400).optional(),
  PLINTH_SIGNING_KEY_PASSPHRASE: z.string().min(12, 'must be at least 12 characters').optional(),
});

/** Parses `plinth up` style flags and PLINTH_* environment variables; flags win. */
export function parseConfig(argv: readonly string[], env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  let flags;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        'gateway-port': { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        'database-url': { type: 'string' },
        'no-demo': { type: 'boolean' },
        'no-builtin-templates': { type: 'boolean' },
        'no-embedded-runner': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  // --config FILE, else PLINTH_CONFIG, else ./plinth.config.yaml when there is one.
  const named = flags.config ?? (env.PLINTH_CONFIG !== '' ? env.PLINTH_CONFIG : undefined);
  const configFile = named !== undefined ? resolve(cwd, named) : existsSync(resolve(cwd, CONFIG_FILE)) ? resolve(cwd, CONFIG_FILE) : undefined;
  const fromFile = configFile === undefined ? {} : readConfigFile(configFile);
  const fromEnv = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('PLINTH_') && k !== 'PLINTH_CONFIG' && v !== ''));
  const parsedEnv = envSchema.safeParse({ ...fromFile, ...fromEnv });
  if (!parsedEnv.success) {
    // A problem with a value from the file points into the file.
    const where = (key: string) => (key in fromFile && !(key in fromEnv) ? `${configFile}: ${configFileKeyOf[key] ?? key}` : key);
    throw new InputError(parsedEnv.error.issues.map((i) => `${where(i.path.join('.'))}: ${i.message}`).join('; '));
  }
  const e = parsedEnv.data;
  const port = flags.port !== undefined ? Number(flags.port) : (e.PLINTH_PORT ?? 7007);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InputError(`--port: "${flags.port}" is not a port number; use 0-65535`);
  }
  const gatewayPort = flags['gateway-port'] !== undefined ? Number(flags['gateway-port']) : (e.PLINTH_GATEWAY_PORT ?? 7080);
  if (!Number.isInteger(gatewayPort) || gatewayPort < 0 || gatewayPort > 65535) {
    throw new InputError(`--gateway-port: "${flags['gateway-port']}" is not a port number; use 0-65535`);
  }
  const databaseUrl = flags['database-url'] ?? e.PLINTH_DATABASE_URL;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new InputError(`--database-url: must be a postgres:// URL (leave it unset for the embedded SQLite)`);
  }
  return {
    host: flags.host ?? e.PLINTH_HOST ?? '127.0.0.1',
    port,
    gatewayPort,
    baseDomain: parseBaseDomain(e.PLINTH_BASE_DOMAIN ?? DEFAULT_BASE_DOMAIN, 'PLINTH_BASE_DOMAIN'),
    dataDir: resolve(cwd, flags['data-dir'] ?? e.PLINTH_DATA_DIR ?? '.plinth'),
    databaseUrl,
    databasePoolSize: e.PLINTH_DATABASE_POOL_SIZE ?? 10,
    adminPassword: e.PLINTH_ADMIN_PASSWORD,
    logLevel: e.PLINTH_LOG_LEVEL ?? 'info',
    prettyLogs: (e.PLINTH_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty',
    bodyLimitBytes: 1024 * 1024,
    jobs: { workerEnabled: true, concurrency: e.PLINTH_JOB_CONCURRENCY ?? 8, leaseMs: 30_000, drainMs: 10_000 },
    sessionIdleS: 12 * 3600,
    demo: flags['no-demo'] !== true,
    builtinTemplates: flags['no-builtin-templates'] !== true,
    catalog: {
      fileRoot: resolve(cwd, e.PLINTH_CATALOG_FILE_ROOT ?? '.'),
      refreshIntervalS: e.PLINTH_CATALOG_REFRESH_INTERVAL_S ?? 300,
    },
    resources: {
      // With no configuration, the servers on their default loopback ports (DESIGN: zero-config defaults).
      postgresUrl: e.PLINTH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      redisUrl: e.PLINTH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      natsUrl: e.PLINTH_NATS_URL ?? 'nats://127.0.0.1:4222',
      rabbitmqUrl: e.PLINTH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
      rabbitmqManagementUrl: e.PLINTH_RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672',
      rotationGraceS: e.PLINTH_ROTATION_GRACE_S ?? 3600,
      secretsKey: e.PLINTH_SECRETS_KEY,
      secretsPreviousKeys: e.PLINTH_SECRETS_PREVIOUS_KEYS ?? [],
      backupRetentionDays: e.PLINTH_BACKUP_RETENTION_DAYS ?? 7,
      driftIntervalS: e.PLINTH_DRIFT_INTERVAL_S ?? 30,
    },
    signingKeyPassphrase: e.PLINTH_SIGNING_KEY_PASSPHRASE,
    kubeconfig: e.PLINTH_KUBECONFIG === undefined ? undefined : resolve(cwd, e.PLINTH_KUBECONFIG),
    embeddedRunner: flags['no-embedded-runner'] !== true && e.PLINTH_EMBEDDED_RUNNER !== 'false',
  };
}
