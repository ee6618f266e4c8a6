import { describe, expect, it } from 'vitest';
import { createWeightedPicker, pickWeighted, preselectRelease } from './traffic.js';
import { parseWorkloadSpec, quantityToBytes, quantityToMillicores } from './workload.js';

const digest = `sha256:${'a'.repeat(64)}`;
const minimal = { service: 'payments', environment: 'staging', version: '1.2.0', artifact: { kind: 'directory', path: '/srv/payments', digest }, command: ['node', 'server.js'] };

describe('workload spec', () => {
  it('applies defaults to a minimal spec', () => {
    const spec = parseWorkloadSpec(minimal);
    expect(spec).toMatchObject({ replicas: 1, args: [], env: {}, secrets: [], terminationGraceMs: 10_000 });
  });
  it('names every problem with its path', () => {
    expect(() => parseWorkloadSpec({ ...minimal, service: 'Payments', artifact: { ...minimal.artifact, digest: 'md5:x' }, replicas: -1 })).toThrow(
      /service: must be a DNS label.*artifact\.digest: must be sha256.*replicas/,
    );
  });
  it('refuses a probe with both http and exec, and unknown fields', () => {
    expect(() => parseWorkloadSpec({ ...minimal, readiness: { http: { path: '/h' }, exec: { command: ['true'] } } })).toThrow(/exactly one of http or exec/);
    expect(() => parseWorkloadSpec({ ...minimal, image: 'x' })).toThrow(/image/);
  });
  it('parses Kubernetes quantities', () => {
    expect(quantityToBytes('256Mi')).toBe(268_435_456);
    expect(quantityToBytes('128M')).toBe(128_000_000);
    expect(quantityToBytes('1Gi')).toBe(2 ** 30);
    expect(quantityToMillicores('500m')).toBe(500);
    expect(quantityToMillicores('0.24')).toBe(240);
  });
});

describe('traffic weights', () => {
  it('smooth weighted round robin gives exactly 10% over 1,000 picks, spread evenly', () => {
    const pick = createWeightedPicker([{ target: 'stable', weight: 90 }, { target: 'canary', weight: 10 }]);
    const picks = Array.from({ length: 1000 }, () => pick());
    expect(picks.filter((p) => p === 'canary')).toHaveLength(100);
    // never two canary picks within any 5 consecutive requests
    for (let i = 0; i + 5 <= picks.length; i++) expect(picks.slice(i, i + 5).filter((p) => p === 'canary').length).toBeLessThanOrEqual(1);
  });
  it('random draws are only approximately 10% (the round robin is preferred)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const n = Array.from({ length: 1000 }, () => pickWeighted([{ target: 's', weight: 90 }, { target: 'c', weight: 10 }], random)).filter((p) => p === 'c').length;
    expect(n).toBeGreaterThan(60);
    expect(n).toBeLessThan(140);
  });
  it('a weight of 0 or 100 sends nothing or everything', () => {
    const all = createWeightedPicker([{ target: 's', weight: 0 }, { target: 'c', weight: 100 }]);
    expect(new Set(Array.from({ length: 50 }, () => all()))).toEqual(new Set(['c']));
  });
  it('the header override wins over weights and sticky cookies', () => {
    const split = { stable: 's', canary: 'c', canaryWeightPercent: 10, sticky: true };
    expect(preselectRelease(split, 'always', 's')).toBe('c');
    expect(preselectRelease(split, 'never', 'c')).toBe('s');
    expect(preselectRelease(split, undefined, 'c')).toBe('c');
    expect(preselectRelease({ ...split, canaryWeightPercent: 0 }, undefined, 'c')).toBeUndefined();
    expect(preselectRelease({ ...split, sticky: false }, undefined, 'c')).toBeUndefined();
  });
});
