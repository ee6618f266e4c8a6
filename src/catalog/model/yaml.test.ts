import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlDocuments, parseYamlDocumentsFully, parseYamlFast } from './yaml.js';

const repo = new URL('../../../', import.meta.url).pathname;

function yamlFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
}

/** JSON keeps what the catalog stores (NaN/Infinity become null there too). */
const same = (text: string) => expect(JSON.stringify(parseYamlDocuments(text, 'f.yaml'))).toBe(JSON.stringify(parseYamlDocumentsFully(text, 'f.yaml')));

describe('parseYamlDocuments: js-yaml fast path reads exactly what the yaml package reads', () => {
  it('on every catalog file shipped and in the conformance data, most of them on the fast path', () => {
    const files = [...yamlFiles(join(repo, 'examples')), ...yamlFiles(join(repo, 'templates')), ...yamlFiles(join(repo, '../shared/conformance/backstage'))];
    expect(files.length).toBeGreaterThan(20);
    let fast = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(JSON.stringify(parseYamlDocuments(text, file)), file).toBe(JSON.stringify(parseYamlDocumentsFully(text, file)));
      if (parseYamlFast(text)) fast += 1;
    }
    expect(fast).toBeGreaterThan(files.length / 3);
  });

  it.each([
    ['core scalars', 'a: 0123\nb: 0o17\nc: 0x1F\nd: 1_000\ne: +12\nf: .inf\ng: 1e3\nh: 2024-01-01\ni: yes\nj: ~\nk: 1.10\nl: -0\nm: 0.\nn: .5\no: +.5\np: 12e03\nq: 0b101\nr: 1:20\ns: Null\nt: TRUE\nu: True\nv: tRue\nw: -.inf\nx: .NaN\ny: 0x\nz: 0o8\nab:\nad: "~"\nae: 0X1f\naf: 1.5E+3\nag: 5.\nah: -.5e-3\n'],
    ['documents, empty ones included', '---\na: 1\n---\n---\nb: 2\n...\n'],
    ['comments alone', '# nothing here\n'],
    ['one empty document', '---\n'],
    ['block and flow collections, block scalars', 'a:\n  - x\n  -   y\n  - { b: 1, c: [1,2] }\nd: >\n  folded\n  text\n\n  more\ne: |-\n  keep\n   indented\nf: "multi\n  line"\n'],
    ['escapes, BOM, CRLF', '\ufeffa: "\\u00e9\\x41\\t"\r\nb: \'it\'\'s\'\r\n'],
    ['scalar keys', '1: a\n1.10: b\ntrue: c\n.inf: d\n0x1F: e\n'],
    ['null keys', '~: a\nnull: b\n'],
    ['collection keys', '[a, b]: c\n'],
    ['complex keys', '? a\n: b\n'],
    ['anchors and aliases', 'x: &a 1\ny: *a\n'],
    ['tags', 'a: !!int "12"\nb: !!str 12\n'],
    ['merge keys', 'base: &b {x: 1}\nc:\n  <<: *b\n'],
    ['directives', '%YAML 1.1\n---\na: yes\n'],
    ['duplicate keys', 'a: 1\na: 2\n---\nb: 1\n'],
    ['invalid documents beside valid ones', 'a: 1\n---\na: b: c\n---\nc: [1,\n'],
    ['text that looks like YAML syntax', 'description: Some *bold* and a [link](http://x?a=1&b=2)! see docs: here\n'],
  ])('%s', (_name, text) => same(text));

  it('keeps the alias limit against YAML bombs', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 6 }, (_, i) => `${'bcdefg'[i]}: &${'bcdefg'[i]} [${new Array(10).fill(`*${'abcdef'[i]}`).join(',')}]`)].join('\n');
    expect(parseYamlFast(bomb)).toBeUndefined();
    expect(parseYamlDocuments(bomb, 'bomb.yaml')[0]!.error).toMatch(/alias/i);
  });

  it('reads a plain catalog file on the fast path', () => {
    const text = 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: "svc"\n  tags: [a, b]\nspec:\n  type: service\n  owner: group:default/team-a\n  definition: "openapi: 3.0.0\\n"\n';
    expect(parseYamlFast(text)).toEqual([{ apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'svc', tags: ['a', 'b'] }, spec: { type: 'service', owner: 'group:default/team-a', definition: 'openapi: 3.0.0\n' } }]);
  });
});
