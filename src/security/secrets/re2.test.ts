import { describe, expect, it } from 'vitest';
import { compileRe2, Re2SyntaxError, translateRe2 } from './re2.js';

// Patterns in the shapes gitleaks' default rules use (config/gitleaks.toml), which Node 20 rejects as written.
describe('translateRe2', () => {
  it('scopes a mid-pattern (?i) to the rest of its group', () => {
    const re = compileRe2(String.raw`\b(p8e-(?i)[a-z0-9]{8})\b`);
    expect(re.test('p8e-AbCd1234')).toBe(true);
    expect(re.test('P8E-abcd1234')).toBe(false);
  });

  it('turns case-insensitivity off inside (?-i:…) under a leading (?i)', () => {
    const re = compileRe2(String.raw`(?i)(?:key|(?-i:[Aa]pi|API))\s*=\s*(\w+)`);
    expect(re.test('KEY = abc')).toBe(true);
    expect(re.test('Api = abc')).toBe(true);
    expect(re.test('aPI = abc')).toBe(false);
  });

  it('uses the JS i flag when the whole pattern is case-insensitive', () => {
    expect(translateRe2('(?i)secret[a-z]+')).toEqual({ source: 'secret[a-z]+', flags: 'i' });
  });

  it('keeps (?i) from leaking past its group and across alternatives as RE2 does', () => {
    const re = compileRe2('(a(?i)b|c)d');
    expect(re.test('aBd')).toBe(true);
    expect(re.test('Cd')).toBe(true);
    expect(re.test('aBD')).toBe(false);
  });

  it('translates (?s:.), \\z, \\A, POSIX classes, \\Q…\\E and (?P<name>…)', () => {
    expect(compileRe2('a(?s:.)b').test('a\nb')).toBe(true);
    expect(compileRe2('a.b').test('a\nb')).toBe(false);
    expect(compileRe2(String.raw`end\z`).test('the end')).toBe(true);
    expect(compileRe2(String.raw`\Astart`).test('a start')).toBe(false);
    expect(compileRe2('^[[:alpha:]]+[[:digit:]]$').test('abc1')).toBe(true);
    expect(compileRe2(String.raw`\Q.*+\E!`).test('.*+!')).toBe(true);
    expect(compileRe2(String.raw`\Q.*+\E!`).test('ab!')).toBe(false);
    const named = compileRe2('(?P<user>[a-z]+)@').exec('bob@x');
    expect(named?.groups?.user).toBe('bob');
  });

  it('folds case in character-class ranges and escapes under (?i)', () => {
    const re = compileRe2(String.raw`x(?i:[a-c\x44])`);
    expect(['xA', 'xc', 'xd', 'xD'].map((s) => re.test(s))).toEqual([true, true, true, true]);
    expect(re.test('xe')).toBe(false);
  });

  it('treats braces that are not repetitions as literals, as RE2 does', () => {
    expect(compileRe2(String.raw`^\{\{[ \t]*[\w ().|]+[ \t]*}}$`).test('{{ .Values.x }}')).toBe(true);
  });

  it('rejects RE2-invalid or untranslatable syntax with a reason', () => {
    expect(() => translateRe2('a(?=b)')).toThrow(Re2SyntaxError);
    expect(() => translateRe2('a(?=b)')).toThrow(/lookaround/);
    expect(() => translateRe2(String.raw`(a)\1`)).toThrow(/backreferences/);
    expect(() => translateRe2(String.raw`\C`)).toThrow(/any byte/);
    expect(() => translateRe2('(?U)a+')).toThrow(/ungreedy/);
    expect(() => translateRe2('(ab')).toThrow(/missing \)/);
    expect(() => translateRe2('[[:nope:]]')).toThrow(/POSIX/);
    expect(() => translateRe2('a{1001}')).toThrow(/1000/);
  });
});
