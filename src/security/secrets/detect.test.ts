import { describe, expect, it } from 'vitest';
import { defaultSecretsConfig, loadSecretsConfig } from './config.js';
import { detectSecrets } from './detect.js';
import { contentFingerprint, redactSecret, shannonEntropy } from './model.js';

// Values are fabricated in the real formats; none is a live credential.
const ghp = 'ghp_' + 'Zr4Kq8Wm2Xv6Bn1Lp5Tj9Hc3Gd7Fs0Ay2Qex';

function config(toml: string) {
  const c = loadSecretsConfig(toml, 'test.toml');
  expect(c.problems).toEqual([]);
  return c;
}

describe('detectSecrets', () => {
  it('reports rule, file, line, column, entropy and a fingerprint, with the secret redacted', () => {
    const [f, ...rest] = detectSecrets(defaultSecretsConfig(), `// client\nconst t = "${ghp}";\n`, { file: 'src/a.ts' });
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ rule: 'github-pat', file: 'src/a.ts', line: 2, column: 12, severity: 'critical', secret: 'ghp_Zr…(40 chars)' });
    expect(f!.entropy).toBeGreaterThan(4);
    expect(f!.fingerprint).toBe(contentFingerprint('github-pat', 'src/a.ts', ghp));
    expect(JSON.stringify(f)).not.toContain(ghp.slice(6));
  });

  it('runs a rule only when one of its keywords is present', () => {
    const c = config(`[[rules]]\nid = "x"\nregex = '''[0-9]{6}'''\nkeywords = ["pin"]\n`);
    expect(detectSecrets(c, 'code 123456', { file: 'a' })).toEqual([]);
    expect(detectSecrets(c, 'PIN 123456', { file: 'a' })).toHaveLength(1);
  });

  it('drops a secret at or under the rule entropy floor, and takes secretGroup as the secret', () => {
    const c = config(`[[rules]]\nid = "x"\nregex = '''(key)=(\\w+)'''\nsecretGroup = 2\nentropy = 3\n`);
    expect(detectSecrets(c, 'key=aaaaaaaaaaaa', { file: 'a' })).toEqual([]);
    const [f] = detectSecrets(c, 'key=q8Wm2Xv6Bn1L', { file: 'a' });
    expect(f).toMatchObject({ column: 5, secret: 'q8W…(12 chars)' });
  });

  it('honours gitleaks:allow and plinth:allow-secret on the line', () => {
    const text = `a = "${ghp}" # gitleaks:allow\nb = "${ghp}" // plinth:allow-secret\nc = "${ghp}"\n`;
    expect(detectSecrets(defaultSecretsConfig(), text, { file: 'x' }).map((f) => f.line)).toEqual([3]);
  });

  it('applies allowlists by regexTarget, stopwords, paths, commits and AND conditions', () => {
    const c = config(`
[[rules]]
id = "tok"
regex = '''tok_(\\w{10})'''
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''^\\s*#''']
[[rules.allowlists]]
stopwords = ["sample"]
[[rules.allowlists]]
condition = "AND"
paths = ['''^test/''']
regexTarget = "match"
regexes = ['''^tok_fixture''']
[[allowlists]]
commits = ["c0ffee"]
[[allowlists]]
targetRules = ["other"]
regexes = ['''.*''']
`);
    const find = (text: string, file = 'src/a', commit?: string) => detectSecrets(c, text, { file, commit }).length;
    expect(find('tok_q8Wm2Xv6Bn')).toBe(1);
    expect(find('  # tok_q8Wm2Xv6Bn')).toBe(0);
    expect(find('tok_xsample123')).toBe(0);
    expect(find('tok_fixture123', 'test/a')).toBe(0);
    expect(find('tok_fixture123', 'src/a')).toBe(1);
    expect(find('tok_q8Wm2Xv6Bn', 'src/a', 'c0ffee')).toBe(0);
  });

  it('leaves out placeholders, references and documented examples with the built-in rules', () => {
    const text = [
      'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE',
      'password = "${DB_PASSWORD}"',
      'token: "{{ .Values.token }}"',
      'api_key = "<your-api-key>"',
      'secret = "xxxxxxxxxxxxxxxx"',
      'password = os.environ["DB_PASSWORD"]',
      'secret_name = "orders-db-credentials-2024"',
      'url = "postgres://user:password@localhost/db"',
      'stripe = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"',
    ].join('\n');
    expect(detectSecrets(defaultSecretsConfig(), text, { file: 'x.env' })).toEqual([]);
  });

  it('reports a multi-line private key once, at its BEGIN line', () => {
    const body = Array.from({ length: 6 }, (_, i) => 'MIIEowIBAAKCAQEA' + 'q8Wm2Xv6Bn1Lp5Tj9Hc3Gd7Fs0Ay2QeZr4Kq'.slice(i) + 'x9Lp0a1b2c3d4e5f6').join('\n');
    const text = `key:\n-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\n`;
    const findings = detectSecrets(defaultSecretsConfig(), text, { file: 'k.pem' });
    expect(findings.map((f) => [f.rule, f.line, f.endLine])).toEqual([['private-key', 2, 9]]);
  });

  it('skips files on the global path allowlist (lockfiles, images, vendored code)', () => {
    for (const file of ['package-lock.json', 'web/yarn.lock', 'a/bower_components/x/index.js', 'img/logo.PNG']) {
      expect(detectSecrets(defaultSecretsConfig(), `"${ghp}"`, { file }), file).toEqual([]);
    }
  });
});

describe('redaction and entropy', () => {
  it('never shows more than a quarter of the secret, at most 6 characters', () => {
    expect(redactSecret('hunter22')).toBe('hu…(8 chars)');
    expect(redactSecret(ghp)).toBe('ghp_Zr…(40 chars)');
    expect(redactSecret('abc')).toBe('…(3 chars)');
  });
  it('computes Shannon entropy in bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });
});
