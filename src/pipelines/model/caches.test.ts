import { describe, expect, it } from 'vitest';
import { cacheKey, cacheKeyPattern, cacheSpecFor, detectPreset, type Toolchain } from './index.js';

const node = new Set<Toolchain>(['node', 'npm']);
const files = (lock: string) => [{ name: 'package.json', content: '{"dependencies":{"a":"1"}}' }, { name: 'package-lock.json', content: lock }];

describe('package-manager caches', () => {
  it('keys an npm cache by package.json and the lockfile, and restores node_modules only for the exact key and the download cache only without it', () => {
    const preset = detectPreset({ rootFiles: new Set(['package.json', 'package-lock.json', 'README.md']), available: node, packageJson: JSON.stringify({ dependencies: { a: '1' } }) });
    expect(preset.cache).toMatchObject({ name: 'npm', keyFiles: ['package.json', 'package-lock.json'], env: { npm_config_prefer_offline: 'true' } });
    expect(preset.cache?.paths).toEqual([
      { base: 'home', path: '.npm', env: 'npm_config_cache', restore: 'fallback' },
      { base: 'workspace', path: 'node_modules', restore: 'exact' },
    ]);
  });

  it('has no cache when there is nothing to install', () => {
    expect(detectPreset({ rootFiles: new Set(['package.json']), available: node, packageJson: '{}' }).cache).toBeUndefined();
  });

  it('changes the key with the lockfile, the manager and the runtime, and only then', () => {
    const spec = cacheSpecFor('npm', new Set(['package.json', 'package-lock.json']));
    const key = cacheKey(spec, files('v1'), 'linux-x64-node20');
    expect(key).toMatch(cacheKeyPattern);
    expect(cacheKey(spec, files('v1'), 'linux-x64-node20')).toBe(key);
    expect(cacheKey(spec, files('v2'), 'linux-x64-node20')).not.toBe(key);
    expect(cacheKey(spec, files('v1'), 'linux-x64-node22')).not.toBe(key);
    expect(cacheKey(cacheSpecFor('pnpm', new Set(['package.json'])), files('v1'), 'linux-x64-node20')).not.toBe(key);
    // Bytes cannot move from one file to the next without changing the key.
    expect(cacheKey(spec, [{ name: 'a', content: 'xy' }, { name: 'b', content: 'z' }], 'r')).not.toBe(cacheKey(spec, [{ name: 'a', content: 'x' }, { name: 'b', content: 'yz' }], 'r'));
  });

  it('keys by the lockfiles each ecosystem writes, else by its manifest', () => {
    expect(cacheSpecFor('pip', new Set(['requirements.txt', 'requirements-dev.txt', 'pyproject.toml'])).keyFiles).toEqual(['requirements-dev.txt', 'requirements.txt']);
    expect(cacheSpecFor('pip', new Set(['pyproject.toml'])).keyFiles).toEqual(['pyproject.toml']);
    expect(cacheSpecFor('go', new Set(['go.mod', 'go.sum'])).keyFiles).toEqual(['go.sum']);
    expect(cacheSpecFor('cargo', new Set(['Cargo.toml'])).keyFiles).toEqual(['Cargo.toml']);
    expect(cacheSpecFor('go', new Set(['go.mod'])).paths.map((p) => p.env)).toEqual(['GOMODCACHE', 'GOCACHE']);
  });
});
