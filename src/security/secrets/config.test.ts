import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSecretsConfig, loadSecretsConfig } from './config.js';
import { detectSecrets } from './detect.js';

describe('loadSecretsConfig', () => {
  it('loads the built-in rules with no problems', () => {
    const c = defaultSecretsConfig();
    expect(c.problems).toEqual([]);
    expect(c.rules.length).toBeGreaterThanOrEqual(25);
    expect(c.rules.every((r) => r.keywords.length > 0)).toBe(true);
  });

  it('reports a rule whose regex cannot be used by id and reason, and loads the others', () => {
    const c = loadSecretsConfig(`
[[rules]]
id = "lookahead"
regex = '''secret(?=x)'''
[[rules]]
id = "bad-group"
regex = '''(a)b'''
secretGroup = 3
[[rules]]
id = "composite"
regex = '''a'''
[[rules.required]]
id = "other"
[[rules]]
id = "fine"
regex = '''tok_\\w+'''
`, 'repo/.gitleaks.toml');
    expect(c.rules.map((r) => r.id)).toEqual(['fine']);
    expect(c.problems.map((p) => p.ruleId)).toEqual(['lookahead', 'bad-group', 'composite']);
    expect(c.problems[0]!.reason).toMatch(/lookaround/);
    expect(c.problems[1]!.reason).toMatch(/secretGroup 3/);
  });

  it('rejects invalid TOML and wrong shapes with the file name and the path of the problem', () => {
    expect(() => loadSecretsConfig('[[rules]\nid=', 'a.toml')).toThrow(/^a\.toml: not valid TOML/);
    expect(() => loadSecretsConfig('[[rules]]\nid = 3\n', 'b.toml')).toThrow(/b\.toml: not a gitleaks config: rules\.0\.id/);
    expect(() => loadSecretsConfig('[[rules]]\nid = "x"\nentropy = "high"\n', 'c.toml')).toThrow(/rules\.0\.entropy/);
  });

  it('extends the built-in rules with [extend] useDefault, overriding and disabling by id', () => {
    const c = loadSecretsConfig(`
[extend]
useDefault = true
disabledRules = ["jwt"]
[[rules]]
id = "github-pat"
[[rules.allowlists]]
paths = ['''^fixtures/''']
[[rules]]
id = "acme-token"
regex = '''acme_[a-z0-9]{12}'''
keywords = ["acme_"]
`, 'x.toml');
    const ids = c.rules.map((r) => r.id);
    expect(ids).toContain('acme-token');
    expect(ids).toContain('aws-access-key-id');
    expect(ids).not.toContain('jwt');
    const ghp = 'ghp_' + 'Zr4Kq8Wm2Xv6Bn1Lp5Tj9Hc3Gd7Fs0Ay2Qex';
    expect(detectSecrets(c, ghp, { file: 'fixtures/a.txt' })).toEqual([]);
    expect(detectSecrets(c, ghp, { file: 'src/a.txt' })).toHaveLength(1);
    expect(detectSecrets(c, 'acme_q8wm2xv6bn1l', { file: 'src/a.txt' })).toHaveLength(1);
  });

  it('extends another file by path, relative to the extending config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plinth-secrets-config-'));
    await writeFile(join(dir, 'base.toml'), `[[rules]]\nid = "base-rule"\nregex = '''base_\\d{6}'''\n`);
    const c = loadSecretsConfig(`[extend]\npath = "base.toml"\n`, join(dir, 'child.toml'), dir);
    expect(c.rules.map((r) => r.id)).toEqual(['base-rule']);
    expect(() => loadSecretsConfig(`[extend]\npath = "missing.toml"\n`, 'child.toml', dir)).toThrow(/cannot read/);
  });
});
