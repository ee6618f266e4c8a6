import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { InputError } from './errors.js';

describe('parseConfig', () => {
  it('defaults to 127.0.0.1:7007, .plinth and SQLite', () => {
    const c = parseConfig([], {}, '/srv');
    expect(c).toMatchObject({ host: '127.0.0.1', port: 7007, dataDir: '/srv/.plinth', databaseUrl: undefined, demo: true });
  });
  it('lets flags win over the environment', () => {
    const c = parseConfig(['--port', '8000', '--data-dir', 'd', '--no-demo'], { PLINTH_PORT: '9000', PLINTH_DATABASE_URL: 'postgres://x/y' }, '/srv');
    expect(c).toMatchObject({ port: 8000, dataDir: '/srv/d', databaseUrl: 'postgres://x/y', demo: false });
  });
  it('names the setting that is wrong', () => {
    expect(() => parseConfig(['--port', 'abc'], {})).toThrow(/--port: "abc" is not a port number/);
    expect(() => parseConfig([], { PLINTH_DATABASE_URL: 'mysql://x' })).toThrow(/PLINTH_DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(() => parseConfig([], { PLINTH_ADMIN_PASSWORD: 'short' })).toThrow(InputError);
    expect(() => parseConfig(['--bogus'], {})).toThrow(InputError);
  });
  it('takes a PostgreSQL pool size from 2 to 100 (10 when unset), from the environment or the file', () => {
    expect(parseConfig([], {}).databasePoolSize).toBe(10);
    expect(parseConfig([], { PLINTH_DATABASE_POOL_SIZE: '4' }).databasePoolSize).toBe(4);
    for (const bad of ['1', '0', '101', '2.5', 'four']) {
      expect(() => parseConfig([], { PLINTH_DATABASE_POOL_SIZE: bad }), bad).toThrow('PLINTH_DATABASE_POOL_SIZE: must be a whole number from 2 to 100');
    }
    const dir = mkdtempSync(join(tmpdir(), 'plinth-config-'));
    writeFileSync(join(dir, 'plinth.config.yaml'), 'server: { databasePoolSize: 6 }');
    expect(parseConfig([], {}, dir).databasePoolSize).toBe(6);
  });
  it('takes a base domain for gateway host names, lower-cased, and refuses what is not a domain name', () => {
    expect(parseConfig([], {}).baseDomain).toBe('localhost');
    expect(parseConfig([], { PLINTH_BASE_DOMAIN: 'Apps.Example.com.' }).baseDomain).toBe('apps.example.com');
    for (const bad of ['apps..example.com', '-apps.example.com', 'apps.example.com/x', 'a b.com', `${'a'.repeat(64)}.com`, 'apps.123']) {
      expect(() => parseConfig([], { PLINTH_BASE_DOMAIN: bad }), bad).toThrow(/PLINTH_BASE_DOMAIN: must be a domain name/);
    }
  });
  it('reads plinth.config.yaml (or --config / PLINTH_CONFIG), paths relative to it; the environment and flags win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-config-'));
    writeFileSync(
      join(dir, 'plinth.config.yaml'),
      ['server: { port: 7100, dataDir: data, baseDomain: apps.example.com }', 'resources:', '  postgres: { url: "postgres://admin:pw@db.internal:5432/postgres" }', '  rabbitmq: { url: "amqp://admin:pw@mq:5672", managementUrl: "http://mq:15672" }', '  driftIntervalSeconds: 10', 'catalog: { refreshIntervalSeconds: 60 }'].join('\n'),
    );
    const c = parseConfig([], {}, dir);
    expect(c).toMatchObject({ port: 7100, dataDir: join(dir, 'data'), baseDomain: 'apps.example.com', catalog: { refreshIntervalS: 60 } });
    expect(c.resources).toMatchObject({ postgresUrl: 'postgres://admin:pw@db.internal:5432/postgres', rabbitmqUrl: 'amqp://admin:pw@mq:5672', rabbitmqManagementUrl: 'http://mq:15672', driftIntervalS: 10, redisUrl: 'redis://127.0.0.1:6379' });
    expect(parseConfig(['--port', '7300'], { PLINTH_PORT: '7200', PLINTH_POSTGRES_URL: 'postgres://env/x' }, dir)).toMatchObject({ port: 7300, resources: { postgresUrl: 'postgres://env/x' } });
    writeFileSync(join(dir, 'other.yaml'), 'server: { port: 7400 }');
    expect(parseConfig(['--config', 'other.yaml'], {}, dir).port).toBe(7400);
    expect(parseConfig([], { PLINTH_CONFIG: join(dir, 'other.yaml') }, '/').port).toBe(7400);
  });
  it('names the file and the key that is wrong in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-config-'));
    const file = join(dir, 'plinth.config.yaml');
    writeFileSync(file, 'server: { prot: 7100 }');
    expect(() => parseConfig([], {}, dir)).toThrow(`${file}: server: Unrecognized key: "prot"`);
    writeFileSync(file, 'resources: { redis: { url: "http://cache" } }');
    expect(() => parseConfig([], {}, dir)).toThrow(`${file}: resources.redis.url: must be a redis:// URL`);
    writeFileSync(file, 'server: [1, 2');
    expect(() => parseConfig([], {}, dir)).toThrow(new RegExp(`${file}: not valid YAML`));
    expect(() => parseConfig(['--config', 'missing.yaml'], {}, dir)).toThrow(`${join(dir, 'missing.yaml')}: cannot be read (ENOENT)`);
  });
});
