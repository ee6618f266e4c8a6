/**
 * Summarises a V8 CPU profile of the server (`npm run bench:catalog -- --cpu-prof DIR`): top functions by
 * self time, time by package (self, and inclusive: a sample counts once for every package on its stack),
 * and inclusive time of Plinth's own functions (which store call the database time belongs to).
 *
 *   node dist/bench/catalog/profile.js FILE.cpuprofile [--from S] [--to S] [--top 25]
 *
 * --from/--to select a window in seconds since the profile started (≈ the server's spawn; the bench's
 * JSON has each phase's `timelineS`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A compiled file of Plinth: dist/… or another outDir (`.helper-dist/<name>/…`), then src/<layer> or bench/<suite>. */
const compiledTree = /\/(?:dist|\.helper-dist\/[^/]+)\/(src\/[^/]+|bench\/[^/]+)/;

/** Where code lives: a package in node_modules, a layer of src/, node internals, or a V8 pseudo-node. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = compiledTree.exec(url);
  if (src) return src[1]!;
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[0] ?? '');
  return url;
}

function summarizeProfile(profile: Profile, window: { fromS?: number; toS?: number }, top: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const selfPkg = new Map<string, number>();
  const inclusivePkg = new Map<string, number>();
  const inclusiveSrc = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let t = 0;
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const s = t / 1e6;
    if ((window.fromS !== undefined && s < window.fromS) || (window.toS !== undefined && s > window.toS)) continue;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    totalUs += delta;
    const f = node.callFrame;
    add(self, `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : ''}`.trim(), delta);
    add(selfPkg, packageOf(f.url, f.functionName), delta);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      const pkg = packageOf(n.callFrame.url, n.callFrame.functionName);
      const inSrc = compiledTree.exec(n.callFrame.url)?.[1]?.startsWith('src/') === true;
      const fn = inSrc ? `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(?=src\/)/, '')}:${n.callFrame.lineNumber + 1}` : undefined;
      if (fn && !seen.has(fn)) {
        seen.add(fn);
        add(inclusiveSrc, fn, delta);
      }
      if (pkg === '(root)' || seen.has(pkg)) continue;
      seen.add(pkg);
      add(inclusivePkg, pkg, delta);
    }
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: Math.round((us / Math.max(1, totalUs)) * 1000) / 10 }));
  return { windowS: window, sampledMs: Math.round(totalUs / 1000), topSelf: rows(self), selfByPackage: rows(selfPkg), inclusiveByPackage: rows(inclusivePkg), inclusiveBySrcFunction: rows(inclusiveSrc) };
}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string', default: '25' }, json: { type: 'boolean', default: false } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: profile.js FILE.cpuprofile [--from S] [--to S] [--top N] [--json]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const window = { ...(values.from ? { fromS: Number(values.from) } : {}), ...(values.to ? { toS: Number(values.to) } : {}) };
  const summary = summarizeProfile(profile, window, Number(values.top));
  if (values.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const print = (title: string, rows: { name: string; ms: number; pct: number }[]) => {
    process.stdout.write(`\n${title}\n`);
    for (const r of rows) process.stdout.write(`${String(r.ms).padStart(8)} ms ${String(r.pct).padStart(5)} %  ${r.name}\n`);
  };
  process.stdout.write(`${file}: ${summary.sampledMs} ms sampled in ${JSON.stringify(window)}\n`);
  print('self time by function', summary.topSelf);
  print('self time by package', summary.selfByPackage);
  print('inclusive time by package (a sample counts once per package on its stack)', summary.inclusiveByPackage);
  print('inclusive time by function of src/ (compiled dist/src line numbers)', summary.inclusiveBySrcFunction);
}

main();
