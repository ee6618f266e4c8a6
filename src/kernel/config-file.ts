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
  server: z.strictObject({ host: text, port: number, gatewayPort: number, baseDomain: text, dataDir: text, databaseUrl: text, databasePoolSize: number, embeddedRunner: z.boolean(), kubeconfig: text }).partial().optional(),
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

/** Each key of the file (`section.key`), the variable it stands for, and whether it is a path (relative to the file). */
const KEYS: readonly (readonly [key: string, variable: string, path?: 'path'])[] = [
  ['server.host', 'PLINTH_HOST'], ['server.port', 'PLINTH_PORT'], ['server.gatewayPort', 'PLINTH_GATEWAY_PORT'], ['server.baseDomain', 'PLINTH_BASE_DOMAIN'],
  ['server.dataDir', 'PLINTH_DATA_DIR', 'path'], ['server.databaseUrl', 'PLINTH_DATABASE_URL'], ['server.databasePoolSize', 'PLINTH_DATABASE_POOL_SIZE'], ['server.embeddedRunner', 'PLINTH_EMBEDDED_RUNNER'], ['server.kubeconfig', 'PLINTH_KUBECONFIG', 'path'],
  ['log.level', 'PLINTH_LOG_LEVEL'], ['log.format', 'PLINTH_LOG_FORMAT'], ['jobs.concurrency', 'PLINTH_JOB_CONCURRENCY'],
  ['catalog.fileRoot', 'PLINTH_CATALOG_FILE_ROOT', 'path'], ['catalog.refreshIntervalSeconds', 'PLINTH_CATALOG_REFRESH_INTERVAL_S'],
  ['resources.postgres.url', 'PLINTH_POSTGRES_URL'], ['resources.redis.url', 'PLINTH_REDIS_URL'], ['resources.nats.url', 'PLINTH_NATS_URL'],
  ['resources.rabbitmq.url', 'PLINTH_RABBITMQ_URL'], ['resources.rabbitmq.managementUrl', 'PLINTH_RABBITMQ_MANAGEMENT_URL'],
  ['resources.rotationGraceSeconds', 'PLINTH_ROTATION_GRACE_S'], ['resources.backupRetentionDays', 'PLINTH_BACKUP_RETENTION_DAYS'], ['resources.driftIntervalSeconds', 'PLINTH_DRIFT_INTERVAL_S'],
];

/** The file key a variable came from (`resources.redis.url`), for messages that point into the file. */
export const configFileKeyOf: Readonly<Record<string, string>> = Object.fromEntries(KEYS.map(([key, variable]) => [variable, key]));

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
  const out: Record<string, string> = {};
  for (const [key, variable, kind] of KEYS) {
    let node: unknown = parsed.data;
    for (const part of key.split('.')) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
    if (node === undefined) continue;
    out[variable] = kind === 'path' ? resolve(dirname(file), String(node)) : String(node);
  }
  return out;
}
