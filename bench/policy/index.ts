/**
 * `npm run bench:policy`: the Kyverno engine's figures, one JSON line on stdout (progress on stderr).
 *
 * - Rule evaluations per second on one core: every (policy, resource) pair of the conformance corpus
 *   (each test's resources against each of its policies, as `kyverno test` evaluates them), with
 *   policies compiled once; a rule evaluation is one rule verdict. Beside it, the same pairs with the
 *   policy compiled again for every evaluation (no cache), as the baseline of the ratio.
 * - One admission decision against 50 corpus policies that apply to Pods, for a Pod and for a
 *   Deployment (autogen rules), as latency percentiles.
 *
 *   node dist/bench/policy/index.js [--duration 5] [--decisions 2000]
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compilePolicy, decideAdmission, evaluatePolicy, loadKyvernoTestInputs, type CompiledPolicy, type JsonObject, type JsonValue } from '../../src/policy/index.js';
import { round, summarize } from '../kernel/util.js';

const { values: flags } = parseArgs({
  options: { duration: { type: 'string', default: '5' }, decisions: { type: 'string', default: '2000' } },
  strict: true,
});
const durationS = Number(flags.duration);
const decisions = Number(flags.decisions);
if (!(durationS > 0) || !(decisions >= 100)) throw new Error('--duration must be > 0 and --decisions ≥ 100');

function progress(message: string): void {
  process.stderr.write(`[bench:policy] ${message}\n`);
}

/** The repository root, from bench/policy in both the sources and dist/. */
function repoRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return resolve(here, here.includes(`${'dist'}/bench`) ? '../../..' : '../..');
}

interface Pair {
  policy: CompiledPolicy;
  resource: JsonObject;
}

async function loadCorpus(): Promise<{ pairs: Pair[]; policies: CompiledPolicy[]; cases: number }> {
  const corpus = join(repoRoot(), '../shared/conformance/kyverno');
  const [header, ...lines] = readFileSync(join(corpus, 'INDEX.tsv'), 'utf8').trimEnd().split('\n');
  const columns = header!.split('\t');
  const pairs: Pair[] = [];
  const policies: CompiledPolicy[] = [];
  for (const line of lines) {
    const cells = line.split('\t');
    const inputs = await loadKyvernoTestInputs(join(corpus, cells[columns.indexOf('case')]!, cells[columns.indexOf('test_file')]!));
    policies.push(...inputs.policies);
    for (const policy of inputs.policies) for (const resource of inputs.resources) pairs.push({ policy, resource });
  }
  return { pairs, policies, cases: lines.length };
}

/** Runs `pass` repeatedly for `seconds` (after a warm-up pass) and returns verdicts per second. */
function rate(seconds: number, pass: () => number): { perSecond: number; passes: number; verdictsPerPass: number } {
  const verdictsPerPass = pass();
  let verdicts = 0;
  let passes = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    verdicts += pass();
    passes++;
  }
  const elapsedS = (performance.now() - start) / 1000;
  return { perSecond: Math.round(verdicts / elapsedS), passes, verdictsPerPass };
}

function evaluatePairs(pairs: readonly Pair[], compileEachTime: boolean): number {
  let verdicts = 0;
  for (const { policy, resource } of pairs) {
    const effective = compileEachTime ? compilePolicy(policy.document as unknown as JsonValue, 'bench') : policy;
    verdicts += evaluatePolicy(effective, { operation: 'CREATE', resource }).results.length;
  }
  return verdicts;
}

const samplePod: JsonObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'checkout', namespace: 'shop', labels: { app: 'checkout', team: 'payments', 'cost-center': 'cc-42' } },
  spec: {
    serviceAccountName: 'checkout',
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'app',
        image: 'registry.example.com/shop/checkout:1.4.2',
        imagePullPolicy: 'IfNotPresent',
        ports: [{ containerPort: 8080 }],
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
        readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
      },
    ],
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
  },
};

const sampleDeployment: JsonObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'checkout', namespace: 'shop', labels: { app: 'checkout' } },
  spec: { replicas: 3, selector: { matchLabels: { app: 'checkout' } }, template: { metadata: samplePod.metadata as JsonObject, spec: samplePod.spec as JsonObject } },
};

/** 50 distinct corpus policies whose rules select Pods, in a stable order. */
function podPolicies(all: readonly CompiledPolicy[]): CompiledPolicy[] {
  const byKey = new Map<string, CompiledPolicy>();
  for (const policy of all) {
    const selectsPods = JSON.stringify(policy.document.spec.rules.map((r) => r.match)).includes('"Pod"');
    if (selectsPods && !byKey.has(policy.key)) byKey.set(policy.key, policy);
  }
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key)).slice(0, 50);
}

function admissionLatency(policies: readonly CompiledPolicy[], resource: JsonObject) {
  const input = { operation: 'CREATE' as const, resource };
  for (let i = 0; i < 200; i++) decideAdmission(policies, input);
  const samples: number[] = [];
  let denied = 0;
  let verdicts = 0;
  for (let i = 0; i < decisions; i++) {
    const start = performance.now();
    const decision = decideAdmission(policies, input);
    samples.push(performance.now() - start);
    if (!decision.allowed) denied++;
    verdicts = decision.results.reduce((n, r) => n + r.results.length, 0);
  }
  return { ...summarize(samples), ruleVerdictsPerDecision: verdicts, denied };
}

async function main(): Promise<void> {
  const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg1mAtStart: round(loadavg()[0] ?? 0) };
  progress('loading the conformance corpus');
  const corpus = await loadCorpus();
  progress(`${corpus.pairs.length} (policy, resource) pairs from ${corpus.cases} cases`);
  progress(`compiled policies: ${durationS} s`);
  const compiled = rate(durationS, () => evaluatePairs(corpus.pairs, false));
  progress(`baseline, compiled per evaluation: ${durationS} s`);
  const uncompiled = rate(durationS, () => evaluatePairs(corpus.pairs, true));
  const fifty = podPolicies(corpus.policies);
  progress(`admission decisions against ${fifty.length} policies: ${decisions} each for a Pod and a Deployment`);
  const pod = admissionLatency(fifty, samplePod);
  const deployment = admissionLatency(fifty, sampleDeployment);
  const figures = {
    bench: 'policy',
    machine,
    corpus: { cases: corpus.cases, pairs: corpus.pairs.length, ruleVerdictsPerPass: compiled.verdictsPerPass },
    ruleEvaluationsPerSecond: compiled.perSecond,
    baselineCompiledPerEvaluationPerSecond: uncompiled.perSecond,
    compiledSpeedup: round(compiled.perSecond / uncompiled.perSecond),
    admission: { policies: fifty.length, podMs: pod, deploymentMs: deployment },
    targets: {
      ruleEvaluationsPerSecond: { target: 20_000, met: compiled.perSecond >= 20_000 },
      admissionP99Ms: { target: 5, met: pod.p99 < 5 && deployment.p99 < 5 },
    },
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

await main();
