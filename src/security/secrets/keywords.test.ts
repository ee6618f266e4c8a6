import { describe, expect, it } from 'vitest';
import { defaultSecretsConfig } from './config.js';
import { detectSecrets } from './detect.js';
import { createKeywordMatcher } from './keywords.js';

describe('createKeywordMatcher', () => {
  it('finds every keyword case-insensitively in one pass, overlapping ones included', () => {
    const hits = createKeywordMatcher(['sk', 'sk_live', 'live', 'ghp_', 'größe']).find('key: SK_LIVE_x; task; Größe');
    expect(hits.positions.get('sk_live')).toEqual([5]);
    expect(hits.positions.get('sk')).toEqual([5, 18]);
    expect(hits.positions.get('live')).toEqual([8]);
    expect(hits.has('ghp_')).toBe(false);
    expect(hits.has('größe')).toBe(true);
  });

  it('does not match across non-ASCII characters', () => {
    expect(createKeywordMatcher(['token']).find('tok\u00e9en tokén').has('token')).toBe(false);
  });
});

describe('keyword windows', () => {
  const ghp = 'ghp_' + 'Zr4Kq8Wm2Xv6Bn1Lp5Tj9Hc3Gd7Fs0Ay2Qex';

  it('finds a secret deep in a large file and on a line after its keyword', () => {
    const filler = 'const value = compute(input);\n'.repeat(5000);
    const text = `${filler}const ghToken =\n  "${ghp}";\n${filler}password:\n  "q8Wm2Xv6Bn1Lp5Tj9H"\n`;
    const findings = detectSecrets(defaultSecretsConfig(), text, { file: 'a.yaml' });
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['github-pat', 5002], ['generic-secret-assignment', 10004]]);
  });

  it('scans keyword-dense text in full, with the same findings', () => {
    const text = `${'token token secret\n'.repeat(3000)}api_key = "q8Wm2Xv6Bn1Lp5Tj9H"\n`;
    expect(detectSecrets(defaultSecretsConfig(), text, { file: 'a.env' }).map((f) => f.line)).toEqual([3001]);
  });
});

describe('the generic rule in source code', () => {
  it('ignores unquoted expressions in code but not unquoted values in config files', () => {
    const code = 'const hasToken = !!node.exclamationToken2;\npTok->xTokenize = fts5V1toV2Tokenize;\nconst secret = "q8Wm2Xv6Bn1Lp5Tj9H";\n';
    expect(detectSecrets(defaultSecretsConfig(), code, { file: 'a.ts' }).map((f) => f.line)).toEqual([3]);
    expect(detectSecrets(defaultSecretsConfig(), 'API_SECRET=q8Wm2Xv6Bn1Lp5Tj9H\n', { file: 'prod.env' })).toHaveLength(1);
  });
});
