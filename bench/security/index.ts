/**
 * `npm run bench:security`: the secrets scan's figures, one JSON line on stdout (progress on stderr).
 *
 * - Throughput on one core (the scan is single-threaded JavaScript): a mixed source tree of about
 *   100 MB copied deterministically from this repository's node_modules (JavaScript, TypeScript,
 *   JSON, Markdown, YAML; sorted paths, first files up to the size), scanned with the built-in rules
 *   after a warm-up pass, so the page cache holds the files. Baseline in the same invocation: the
 *   same walk and reads with no rules, so the ratio shows what detection itself costs.
 * - Precision and recall on the labelled corpus test/fixtures/secrets-corpus.
 * - The dependency audit (bench/security/deps.ts): this repository's package-lock.json against 5,000
 *   generated OSV advisories, with and without the package index (the baseline).
 * - The whole security stage (bench/security/stage.ts) on a fresh node-service project, through the
 *   real step handlers (target < 15 s), the package stage's supply-chain steps, and provenance
 *   signing/verification per second against bare ECDSA sign+verify (the baseline).
 *
 *   node dist/bench/security/index.js [--mb 100]
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultSecretsConfig, detectSecrets, scanSecrets, scanTree, type SecretsConfig } from '../../src/security/secrets/index.js';
import { readCorpusLabels, scoreCorpus } from '../../src/security/secrets/corpus.js';
import { benchDependencyAudit } from './deps.js';
import { benchSecurityStage } from './stage.js';

const { values: flags } = parseArgs({ options: { mb: { type: 'string', default: '100' } }, strict: true });
const targetBytes = Number(flags.mb) * 1024 * 1024;
if (!(targetBytes > 0)) throw new Error('--mb must be > 0');

function progress(message: string): void {
  process.stderr.write(`[bench:security] ${message}\n`);
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The repository root, from bench/security in both the sources and dist/. */
function repoRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return resolve(here, here.includes(`${'dist'}/bench`) ? '../../..' : '../..');
}

const sourceExtensions = /\.(?:js|mjs|cjs|ts|mts|cts|tsx|jsx|json|md|ya?ml|css|html)$/;

/** Copies text sources from node_modules in sorted order until `bytes`; `node_modules` segments become `nm` so the walker scans them. */
function buildTree(from: string, to: string, bytes: number): { files: number; bytes: number } {
  let copied = 0;
  let files = 0;
  const stack = [from];
  while (stack.length > 0 && copied < bytes) {
    const dir = stack.pop()!;
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? 1 : -1));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) stack.push(path);
      else if (e.isFile() && sourceExtensions.test(e.name) && !/(?:^|\/)(?:package-lock\.json|yarn\.lock)$/.test(path) && copied < bytes) {
        const size = statSync(path).size;
        if (size > 4 * 1024 * 1024) continue;
        const target = join(to, relative(from, path).replaceAll('node_modules', 'nm'));
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(path, target);
        copied += size;
        files++;
      }
    }
  }
  return { files, bytes: copied };
}

/** Wall and CPU seconds of this process: the machine is shared, so CPU time is the steadier figure for "one core". */
async function timed<T>(work: () => Promise<T> | T): Promise<{ seconds: number; cpuSeconds: number; out: T }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const out = await work();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6, out };
}

const timedScan = (dir: string, config: SecretsConfig) => timed(() => scanTree(dir, config));

/** Every scanned file's text in memory, to time detection alone. */
function loadTexts(dir: string): { file: string; text: string }[] {
  const texts: { file: string; text: string }[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) stack.push(path);
      else if (e.isFile()) texts.push({ file: relative(dir, path), text: readFileSync(path, 'utf8') });
    }
  }
  return texts;
}

async function main(): Promise<void> {
  const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg1mAtStart: round(loadavg()[0] ?? 0) };
  const root = repoRoot();
  const work = mkdtempSync(join(tmpdir(), 'plinth-bench-secrets-'));
  try {
    progress(`copying about ${flags.mb} MB of sources from node_modules`);
    const tree = buildTree(join(root, 'node_modules'), join(work, 'tree'), targetBytes);
    const config = defaultSecretsConfig();
    const noRules: SecretsConfig = { rules: [], allowlists: config.allowlists, problems: [] };
    progress(`tree: ${tree.files} files, ${round(tree.bytes / 1024 / 1024)} MiB; warm-up pass`);
    await timedScan(join(work, 'tree'), config);
    progress('scan with the built-in rules');
    const scan = await timedScan(join(work, 'tree'), config);
    progress('baseline: walk and read only');
    const readOnly = await timedScan(join(work, 'tree'), noRules);
    progress('detection alone, over the files held in memory');
    const texts = loadTexts(join(work, 'tree'));
    const detect = await timed(() => texts.reduce((n, t) => n + detectSecrets(config, t.text, { file: t.file }).length, 0));
    const mb = scan.out.bytesScanned / 1024 / 1024;
    const mbPerSecond = round(mb / scan.seconds);
    const detectMbPerCpuSecond = round(tree.bytes / 1024 / 1024 / detect.cpuSeconds);
    const corpusDir = join(root, 'test/fixtures/secrets-corpus');
    const corpus = await scanSecrets({ path: corpusDir });
    const score = scoreCorpus(corpus.findings, await readCorpusLabels(corpusDir));
    progress('dependency audit');
    const deps = await benchDependencyAudit({ advisories: 5000, repeats: 5 });
    progress('security stage on a fresh node-service project');
    const stage = await benchSecurityStage(root);
    const figures = {
      bench: 'security',
      machine,
      secrets: {
        tree: { files: tree.files, mib: round(tree.bytes / 1024 / 1024), filesScanned: scan.out.filesScanned, skipped: scan.out.skipped.length, findings: scan.out.findings.length },
        rules: config.rules.length,
        seconds: round(scan.seconds, 3),
        mbPerSecond,
        mbPerCpuSecond: round(mb / scan.cpuSeconds),
        filesPerSecond: Math.round(scan.out.filesScanned / scan.seconds),
        baselineReadOnlyMbPerSecond: round(mb / readOnly.seconds),
        baselineReadOnlyMbPerCpuSecond: round(mb / readOnly.cpuSeconds),
        detectionCostRatio: round(scan.cpuSeconds / readOnly.cpuSeconds),
        detectOnlyMbPerCpuSecond: detectMbPerCpuSecond,
        corpus: { labelled: score.truePositives + score.missed.length, findings: corpus.findings.length, precision: round(score.precision, 3), recall: round(score.recall, 3) },
      },
      deps,
      stage,
      targets: {
        securityStageSeconds: stage.target,
        secretsMbPerCpuSecond: { target: 50, met: mb / scan.cpuSeconds >= 50 },
        corpusRecall: { target: 0.95, met: score.recall >= 0.95 },
        corpusPrecision: { target: 0.9, met: score.precision >= 0.9 },
      },
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
