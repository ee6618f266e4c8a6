/**
 * `plinth.config.yaml`: the settings PLINTH_* variables carry, written once in a file (issue 8: provider
 * admin credentials "come from config (plinth.config.yaml, or PLINTH_POSTGRES_URL, …)"). Each key
 * stands for one variable, so the file, the environment and the flags mean the same things; flags win
 * over the environment, the environment over the file. Relative paths are relative to the file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from './errors.js';

export const CONFIG_FILE = 'plinth.config.yaml';

const text = z.string().min(1);
const number = z.number();
const url = z.strictObject({ url: text });

const ConfigFile = z.strictObject({
  server: z.strictObject({ host: text, port: number, gatewayPort: number, baseDomain: text, dataDir: text, databaseUrl: text, embeddedRunner: z.boolean(), kubeconfig: text }).partial().optional(),
  log: z.strictObject({ level: text, format: text }).partial().optional(),
  jobs: z.strictObject({ concurrency: number }).partial().optional(),
  catalog: z.strictObject({ fileRoot: text, refreshIntervalSeconds: number }).partial().optional(),
  resources: z
    .strictObject({
      postgres: url,
      redis: url,
      nats: url,
      rabbitmq: z.strictObject({ url: text, managementUrl: text }).partial(),
      rotationGraceSeconds: number,
      backupRetentionDays: number,
      driftIntervalSeconds: number,
    })
    .partial()
    .optional(),
});

/** Reads a config file as the PLINTH_* variables it stands for; an InputError names the file and what is wrong. */
export function readConfigFile(file: string): Record<string, string> {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = parseYaml(raw, { maxAliasCount: 50 }) ?? {};
  } catch (err) {
    throw new InputError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = ConfigFile.safeParse(value);
  if (!parsed.success) throw new InputError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  const c = parsed.data;
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(dirname(file), p));
  const entries: Record<string, string | number | boolean | undefined> = {
    PLINTH_HOST: c.server?.host,
    PLINTH_PORT: c.server?.port,
    PLINTH_GATEWAY_PORT: c.server?.gatewayPort,
    PLINTH_BASE_DOMAIN: c.server?.baseDomain,
    PLINTH_DATA_DIR: path(c.server?.dataDir),
    PLINTH_DATABASE_URL: c.server?.databaseUrl,
    PLINTH_EMBEDDED_RUNNER: c.server?.embeddedRunner,
    PLINTH_KUBECONFIG: path(c.server?.kubeconfig),
    PLINTH_LOG_LEVEL: c.log?.level,
    PLINTH_LOG_FORMAT: c.log?.format,
    PLINTH_JOB_CONCURRENCY: c.jobs?.concurrency,
    PLINTH_CATALOG_FILE_ROOT: path(c.catalog?.fileRoot),
    PLINTH_CATALOG_REFRESH_INTERVAL_S: c.catalog?.refreshIntervalSeconds,
    PLINTH_POSTGRES_URL: c.resources?.postgres?.url,
    PLINTH_REDIS_URL: c.resources?.redis?.url,
    PLINTH_NATS_URL: c.resources?.nats?.url,
    PLINTH_RABBITMQ_URL: c.resources?.rabbitmq?.url,
    PLINTH_RABBITMQ_MANAGEMENT_URL: c.resources?.rabbitmq?.managementUrl,
    PLINTH_ROTATION_GRACE_S: c.resources?.rotationGraceSeconds,
    PLINTH_BACKUP_RETENTION_DAYS: c.resources?.backupRetentionDays,
    PLINTH_DRIFT_INTERVAL_S: c.resources?.driftIntervalSeconds,
  };
  return Object.fromEntries(Object.entries(entries).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
}

/** The names a config file's keys stand for, as `<section>.<key>` (for messages that point into the file). */
export const configFileKeyOf: Record<string, string> = {
  PLINTH_HOST: 'server.host', PLINTH_PORT: 'server.port', PLINTH_GATEWAY_PORT: 'server.gatewayPort', PLINTH_BASE_DOMAIN: 'server.baseDomain',
  PLINTH_DATA_DIR: 'server.dataDir', PLINTH_DATABASE_URL: 'server.databaseUrl', PLINTH_EMBEDDED_RUNNER: 'server.embeddedRunner', PLINTH_KUBECONFIG: 'server.kubeconfig',
  PLINTH_LOG_LEVEL: 'log.level', PLINTH_LOG_FORMAT: 'log.format', PLINTH_JOB_CONCURRENCY: 'jobs.concurrency',
  PLINTH_CATALOG_FILE_ROOT: 'catalog.fileRoot', PLINTH_CATALOG_REFRESH_INTERVAL_S: 'catalog.refreshIntervalSeconds',
  PLINTH_POSTGRES_URL: 'resources.postgres.url', PLINTH_REDIS_URL: 'resources.redis.url', PLINTH_NATS_URL: 'resources.nats.url',
  PLINTH_RABBITMQ_URL: 'resources.rabbitmq.url', PLINTH_RABBITMQ_MANAGEMENT_URL: 'resources.rabbitmq.managementUrl',
  PLINTH_ROTATION_GRACE_S: 'resources.rotationGraceSeconds', PLINTH_BACKUP_RETENTION_DAYS: 'resources.backupRetentionDays', PLINTH_DRIFT_INTERVAL_S: 'resources.driftIntervalSeconds',
};
