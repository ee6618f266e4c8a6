import { describe, expect, it } from 'vitest';
import { cvss3BaseScore, severityOfScore } from './cvss.js';
import { compareGo, comparePep440, compareSemver } from './versions.js';

const sign = (n: number | undefined) => (n === undefined ? undefined : Math.sign(n));

describe('npm semver ordering', () => {
  it.each([
    ['1.2.3-beta.1', '1.2.3', -1],
    ['1.2.3-alpha', '1.2.3-beta', -1],
    ['1.2.3-beta.2', '1.2.3-beta.11', -1],
    ['1.2.3+build.5', '1.2.3', 0],
    ['10.0.0', '9.9.9', 1],
  ])('%s vs %s → %i', (a, b, expected) => expect(sign(compareSemver(a, b))).toBe(expected));
  it('does not compare what is not semver', () => expect(compareSemver('latest', '1.0.0')).toBeUndefined());
});

describe('Go module versions', () => {
  it('orders a pseudo-version before the release it precedes and after the previous one', () => {
    expect(sign(compareGo('v0.0.0-20220722155237-a158d28d115b', '0.3.8'))).toBe(-1);
    expect(sign(compareGo('v0.3.8-0.20221001000000-abcdef123456', 'v0.3.8'))).toBe(-1);
    expect(sign(compareGo('v0.3.8-0.20221001000000-abcdef123456', 'v0.3.7'))).toBe(1);
  });
  it('ignores +incompatible', () => expect(compareGo('v2.0.0+incompatible', '2.0.0')).toBe(0));
});

describe('PEP 440 ordering', () => {
  // The order of the example in PEP 440's "Summary of permitted suffixes and relative ordering".
  const ordered = ['1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.0.15', '1.1.dev1'];
  it('sorts PEP 440’s own example list', () => {
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort((a, b) => comparePep440(a, b)!)).toEqual(ordered);
  });
  it.each([
    ['1.0', '1.0.0', 0],
    ['1!0.1', '2.0', 1],
    ['1.0-alpha1', '1.0a1', 0],
    ['1.0-1', '1.0.post1', 0],
    ['1.0c1', '1.0rc1', 0],
    ['v2.31.0', '2.31', 0],
    ['2.28.0', '2.31.0', -1],
  ])('%s vs %s → %i', (a, b, expected) => expect(sign(comparePep440(a, b))).toBe(expected));
  it('does not compare legacy versions', () => expect(comparePep440('1.0-foo-bar', '1.0')).toBeUndefined());
});

describe('CVSS v3', () => {
  it.each([
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L', 5.6],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N', 6.1],
    ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 7.2],
    ['CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 8.8],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0],
  ])('%s scores %d', (vector, score) => expect(cvss3BaseScore(vector)).toBe(score));
  it('refuses incomplete and v4 vectors', () => {
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L')).toBeUndefined();
    expect(cvss3BaseScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toBeUndefined();
  });
  it('rates scores', () => expect([9.0, 8.9, 7.0, 6.9, 4.0, 3.9].map(severityOfScore)).toEqual(['critical', 'high', 'high', 'medium', 'medium', 'low']));
});
