import { InputError } from '../../kernel/index.js';
import type { DependencyTree, ResolvedPackage } from '../model.js';
import { toPurl } from './purl.js';

// Go modules. Since Go 1.17 go.mod lists every module the build needs (`// indirect` for the transitive
// ones), so it is the package list; go.sum alone is used when there is no go.mod. Neither records who
// requires whom (that takes `go mod graph` and the module cache), so every module hangs off the root.

const goPackage = (path: string, version: string, line: number): ResolvedPackage => ({
  key: `${path}@${version}`,
  ecosystem: 'Go',
  name: path,
  version,
  purl: toPurl('Go', path, version),
  dev: false,
  optional: false,
  hashes: [],
  license: undefined,
  resolved: undefined,
  dependencies: [],
  line,
});

const modulePath = /^[A-Za-z0-9][A-Za-z0-9._~/-]*$/;
const moduleVersion = /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** `go.mod`: the `module` line and every `require` (block or single line); `replace` directives to other versions are applied. */
export function parseGoMod(text: string, file: string): DependencyTree {
  const lines = text.split('\n');
  let module: string | undefined;
  const required = new Map<string, { version: string; line: number }>();
  const replaced = new Map<string, string>();
  let block: 'require' | 'replace' | 'other' | undefined;
  const problems: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') return;
    if (block !== undefined && line === ')') return void (block = undefined);
    let m = /^module\s+"?([^\s"]+)"?$/.exec(line);
    if (m) return void (module = m[1]);
    m = /^(require|replace|exclude|retract|tool|ignore|godebug)\s*\($/.exec(line);
    if (m) return void (block = m[1] === 'require' || m[1] === 'replace' ? m[1] : 'other');
    const directive = block ?? /^(require|replace)\s+/.exec(line)?.[1];
    const body = block !== undefined ? line : line.replace(/^(require|replace)\s+/, '');
    if (directive === 'require') {
      const r = /^"?([^\s"]+)"?\s+(\S+)$/.exec(body);
      if (!r || !modulePath.test(r[1]!) || !moduleVersion.test(r[2]!)) return void problems.push(`line ${i + 1}: "${line}" is not "module/path vX.Y.Z"`);
      required.set(r[1]!, { version: r[2]!, line: i + 1 });
    } else if (directive === 'replace') {
      const r = /^(\S+)(?:\s+\S+)?\s+=>\s+(\S+)\s+(v\S+)$/.exec(body);
      if (r && r[1] === r[2]) replaced.set(r[1]!, r[3]!);
    }
  });
  if (problems.length > 0) throw new InputError(`${file}: ${problems.slice(0, 5).join('; ')}`);
  if (module === undefined) throw new InputError(`${file}: no "module" line; is this a go.mod file?`);
  const packages = [...required].map(([path, r]) => goPackage(path, replaced.get(path) ?? r.version, r.line));
  return { file, ecosystem: 'Go', root: { name: module, version: '', purl: toPurl('Go', module), dependencies: packages.map((p) => p.key) }, packages, warnings: [] };
}

/** `go.sum` without a go.mod: every module with a content hash line (the `/go.mod`-only lines were not built). */
export function parseGoSum(text: string, file: string): DependencyTree {
  const packages = new Map<string, ResolvedPackage>();
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const m = /^(\S+)\s+(v\S+?)(\/go\.mod)?\s+h1:[A-Za-z0-9+/=]+$/.exec(line);
    if (!m) return void problems.push(`line ${i + 1}: expected "module version h1:hash"`);
    if (m[3] !== undefined) return;
    const p = goPackage(m[1]!, m[2]!, i + 1);
    if (!packages.has(p.key)) packages.set(p.key, p);
  });
  if (problems.length > 0) throw new InputError(`${file}: ${problems.slice(0, 5).join('; ')}`);
  const list = [...packages.values()];
  const name = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : 'module';
  return { file, ecosystem: 'Go', root: { name, version: '', purl: toPurl('Go', name), dependencies: list.map((p) => p.key) }, packages: list, warnings: [] };
}
