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
  it('takes a base domain for gateway host names, lower-cased, and refuses what is not a domain name', () => {
    expect(parseConfig([], {}).baseDomain).toBe('localhost');
    expect(parseConfig([], { PLINTH_BASE_DOMAIN: 'Apps.Example.com.' }).baseDomain).toBe('apps.example.com');
    for (const bad of ['apps..example.com', '-apps.example.com', 'apps.example.com/x', 'a b.com', `${'a'.repeat(64)}.com`, 'apps.123']) {
      expect(() => parseConfig([], { PLINTH_BASE_DOMAIN: bad }), bad).toThrow(/PLINTH_BASE_DOMAIN: must be a domain name/);
    }
  });
});
