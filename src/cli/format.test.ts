import { describe, it, expect } from 'vitest';
import { formatDuration, formatEventLine, formatFields, formatTable, formatTime } from './format.js';

describe('formatTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(formatTable(['ID', 'NAME', 'SCOPES'], [['t1', 'laptop', 'read'], ['token-22', 'ci', 'read,write']])).toBe(
      ['ID        NAME    SCOPES', 't1        laptop  read', 'token-22  ci      read,write'].join('\n'),
    );
  });

  it('prints only the header for no rows and trims trailing blanks', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A  B');
    expect(formatTable(['A', 'B'], [['x', '']])).toBe('A  B\nx');
  });
});

describe('formatFields', () => {
  it('aligns the values', () => {
    expect(formatFields([['server', 'http://x'], ['role', 'member']])).toBe('server  http://x\nrole    member');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45.9, '45s'],
    [192, '3m 12s'],
    [7500, '2h 5m'],
    [4 * 86_400 + 7 * 3600 + 5, '4d 7h'],
    [-3, '0s'],
  ])('%s seconds is %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});

describe('formatTime', () => {
  it('shows local date and minutes', () => {
    expect(formatTime(new Date(2026, 10, 26, 14, 51, 30).toISOString())).toBe('2026-11-26 14:51');
  });

  it('shows a placeholder for no time and the text itself when it is not a date', () => {
    expect(formatTime(null)).toBe('-');
    expect(formatTime(undefined, 'never')).toBe('never');
    expect(formatTime('soon')).toBe('soon');
  });
});

describe('formatEventLine', () => {
  const event = {
    seq: 4,
    id: 'e4',
    time: '2026-11-26T14:51:00.000Z',
    kind: 'kernel.token.created',
    subjects: ['user:default/admin', 'token:t1'],
    actor: 'user:default/admin',
    payload: { name: 'laptop', scopes: ['read'] },
  };

  it('prints time, kind, subjects, actor and the payload as compact JSON', () => {
    expect(formatEventLine(event)).toBe(
      '2026-11-26T14:51:00.000Z  kernel.token.created  user:default/admin,token:t1  by user:default/admin  {"name":"laptop","scopes":["read"]}',
    );
  });

  it('leaves out an empty payload and shows "-" for no subjects and no actor', () => {
    expect(formatEventLine({ ...event, subjects: [], actor: null, payload: {} })).toBe(
      '2026-11-26T14:51:00.000Z  kernel.token.created  -  by -',
    );
  });

  it('cuts a long payload to 300 characters', () => {
    const line = formatEventLine({ ...event, payload: { text: 'x'.repeat(1000) } });
    expect(line.endsWith('…')).toBe(true);
    expect(line.length).toBeLessThan(420);
  });
});
