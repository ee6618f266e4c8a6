/**
 * The deploy stages of the standard pipeline (push to deploy): the delivery layer's platform steps.
 *
 * deploy-staging:    deploy (the signed artifact of this run, from its score.yaml, to staging for the
 *                    default branch and to the branch's preview environment otherwise),
 *                    performance-test (a short load on that release)
 * deploy-production: canary (the release starts beside stable and takes the first weight), analysis
 *                    (the first canary step is judged healthy), progressive-rollout (promoted to 100%),
 *                    smoke-test (a GET through the gateway answers 2xx)
 *
 * Every step is idempotent: a run resumed after a restart, or a rerun of the same commit, attaches to
 * the rollout of its version instead of starting another.
 */
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { InputError, isInside, type Principal } from '../kernel/index.js';
import type { PlatformStepContext, PlatformStepHandler, PlatformStepResult } from '../pipelines/index.js';
import { parseScore, scoreFileSources, scoreToWorkload, type Runtime, type ScoreWorkload } from '../runtime/index.js';
import { COST_CENTER_ANNOTATION, isTerminalRollout, type RolloutView } from './model/index.js';
import { ENVIRONMENT_RESOURCE_TYPE, resolveScoreResources, type ClaimResources, type ResolvedResources } from './score-resources.js';
import type { Delivery } from './service.js';

const PIPELINES: Principal = { kind: 'system', name: 'pipelines' };
const SCORE_FILE = 'score.yaml';
const POLL_MS = 250;

export interface DeliveryStepsDeps {
  delivery: Delivery;
  runtime: Runtime;
  /** The absolute path of a build artifact's bytes (the pipelines' content-addressed store). */
  artifactFile(digest: string): string;
  /** Claims the resources a score.yaml declares (absent: such a workload is refused). */
  resources?: ClaimResources;
}

export interface DeliverySteps {
  deploy: PlatformStepHandler;
  performanceTest: PlatformStepHandler;
  canary: PlatformStepHandler;
  analysis: PlatformStepHandler;
  progressiveRollout: PlatformStepHandler;
  smokeTest: PlatformStepHandler;
}

/** What deploys: the service, its spec for an environment, and the version (the commit). */
interface Deployable {
  score: ScoreWorkload;
  service: string;
  version: string;
  /** The files `files.*.source` names, read from the repository. */
  fileSources: Record<string, Buffer>;
}

/** Files a Score workload's `files` read, from beside score.yaml and never outside the repository (a symlink out is refused). */
async function readFileSources(workspace: string, score: ScoreWorkload): Promise<Record<string, Buffer>> {
  const root = await realpath(workspace);
  const out: Record<string, Buffer> = {};
  for (const source of scoreFileSources(score)) {
    const file = await realpath(join(workspace, source)).catch(() => undefined);
    if (file === undefined || isAbsolute(source) || !isInside(root, file)) throw new InputError(`${SCORE_FILE}: files source "${source}" is not a file of the repository`);
    out[source] = await readFile(file);
  }
  return out;
}

const skipped = (message: string): PlatformStepResult => ({ status: 'skipped', message });
const failed = (message: string): PlatformStepResult => ({ status: 'failed', message });
/** `group:default/team-a` → `team-a`: the owner label the guardrails and ownership checks read. */
const ownerLabel = (ownerRef: string) => ownerRef.replace(/^[^:]+:/, '').replace(/^[^/]+\//, '');
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

export function createDeliverySteps(deps: DeliveryStepsDeps): DeliverySteps {
  const { delivery, runtime } = deps;

  async function deployable(ctx: PlatformStepContext): Promise<Deployable | PlatformStepResult> {
    const text = await readFile(join(ctx.workspace, SCORE_FILE), 'utf8').catch(() => undefined);
    if (text === undefined) return skipped(`no ${SCORE_FILE} in the repository: nothing to deploy (describe the workload in a Score file to deploy on push)`);
    let score: ScoreWorkload;
    try {
      score = parseScore(text, SCORE_FILE);
      return { score, service: score.metadata.name, version: ctx.run.sha.slice(0, 12), fileSources: await readFileSources(ctx.workspace, score) };
    } catch (err) {
      return failed((err as Error).message);
    }
  }

  /** Another team's service of the same name is not this repository's to replace. */
  async function checkOwnership(ctx: PlatformStepContext, service: string): Promise<PlatformStepResult | undefined> {
    const [last] = await delivery.listRollouts(PIPELINES, { service, limit: 1 });
    if (last?.ownerRef && last.ownerRef.toLowerCase() !== ctx.run.ownerRef.toLowerCase()) {
      return failed(`service ${service} is owned by ${last.ownerRef}; repository ${ctx.run.repository} (${ctx.run.ownerRef}) cannot deploy it — rename metadata.name in ${SCORE_FILE}`);
    }
    return undefined;
  }

  /** Attaches to this version's rollout in the environment, or starts it. */
  async function startOrAttach(ctx: PlatformStepContext, environment: string, d: Deployable): Promise<RolloutView | PlatformStepResult> {
    const refused = await checkOwnership(ctx, d.service);
    if (refused) return refused;
    const [active] = await delivery.listRollouts(PIPELINES, { service: d.service, environment, active: true, limit: 1 });
    if (active) {
      if (active.version === d.version) {
        ctx.log(`attaching to rollout ${active.id} of ${d.service} ${d.version} in ${environment} (${active.phase})`);
        return active;
      }
      return failed(`service ${d.service} already has rollout ${active.id} (${active.version}) in progress in ${environment}; it must finish or be aborted first`);
    }
    const [latest] = await delivery.listRollouts(PIPELINES, { service: d.service, environment, limit: 1 });
    if (latest && latest.version === d.version && latest.phase === 'succeeded' && runtime.traffic(PIPELINES, d.service, environment)?.stable === latest.releaseId) {
      ctx.log(`${d.service} ${d.version} is already live in ${environment} (rollout ${latest.id})`);
      return latest;
    }
    const built = ctx.outputs['build-artifact'];
    const digest = typeof built?.digest === 'string' ? built.digest : undefined;
    if (!digest) return failed('no build artifact: the package stage did not build one (is it turned off in plinth.yaml?)');
    if (!ctx.outputs.sign) return failed(`artifact ${digest} is not signed (the sign step did not pass); only signed artifacts deploy`);
    const costCenter = d.score.metadata.annotations?.[COST_CENTER_ANNOTATION];
    let resources: ResolvedResources = { outputs: {}, secrets: {} };
    if (Object.keys(d.score.resources ?? {}).length > 0) {
      const claims = Object.values(d.score.resources ?? {}).some((r) => r.type !== ENVIRONMENT_RESOURCE_TYPE);
      if (claims && !deps.resources) return failed(`${SCORE_FILE} declares resources, and this installation has no resources layer to claim them`);
      if (claims && typeof costCenter !== 'string') return failed(`${SCORE_FILE} declares resources: name the cost-center they are billed to in metadata.annotations["${COST_CENTER_ANNOTATION}"]`);
      try {
        const { variables } = await delivery.getEnvironment(PIPELINES, environment);
        resources = await resolveScoreResources({ resources: deps.resources, principal: PIPELINES, score: d.score, environment, environmentVariables: variables, owner: ctx.run.ownerRef, costCenter: typeof costCenter === 'string' ? costCenter : undefined, signal: ctx.signal, log: ctx.log });
      } catch (err) {
        return failed((err as Error).message);
      }
    }
    let spec;
    try {
      spec = scoreToWorkload(d.score, {
        resourceOutputs: resources.outputs,
        resourceSecrets: resources.secrets,
        environment,
        version: d.version,
        // Score's `image: .` is "the image built from this project": here, this run's artifact by digest.
        artifact: { kind: 'tarball', path: deps.artifactFile(digest), digest, ...(imageOf(d.score) === '.' ? { image: `${ctx.run.repository}@${digest}` } : {}) },
        defaultCommand: await defaultCommand(ctx.workspace),
        fileSources: d.fileSources,
      });
    } catch (err) {
      return failed((err as Error).message);
    }
    ctx.log(`deploying ${d.service} ${d.version} (${digest}) to ${environment}`);
    try {
      return await delivery.startRollout(PIPELINES, {
        spec,
        labels: { owner: ownerLabel(ctx.run.ownerRef), ...(typeof costCenter === 'string' ? { 'cost-center': costCenter } : {}) },
        commit: ctx.run.sha,
      });
    } catch (err) {
      const hint = err instanceof InputError || typeof costCenter === 'string' ? '' : ` (${SCORE_FILE} names its cost-center in metadata.annotations["${COST_CENTER_ANNOTATION}"])`;
      return failed(`${(err as Error).message}${hint}`);
    }
  }

  /** Polls the rollout until `done` says so or it ends; logs each phase or weight change once. */
  async function follow(ctx: PlatformStepContext, id: string, done: (r: RolloutView) => boolean): Promise<RolloutView> {
    let last = '';
    for (;;) {
      const r = await delivery.getRollout(PIPELINES, id);
      const line = `${r.environment}: ${r.phase}, ${r.weightPercent}% on ${r.version}${r.stepIndex >= 0 ? ` (step ${r.stepIndex + 1} of ${r.stepCount})` : ''}${r.message ? ` — ${r.message}` : ''}`;
      if (line !== last) ctx.log(line);
      last = line;
      if (done(r) || isTerminalRollout(r.phase) || ctx.signal.aborted) return r;
      await sleep(POLL_MS, ctx.signal);
    }
  }

  const ended = (r: RolloutView): PlatformStepResult | undefined =>
    r.phase === 'rolled-back' ? failed(`rollout ${r.id} was rolled back: ${r.message ?? 'no reason recorded'}`)
    : r.phase === 'failed' ? failed(`rollout ${r.id} failed: ${r.message ?? 'no reason recorded'}`)
    : undefined;
  const outputsOf = (r: RolloutView) => ({ rolloutId: r.id, releaseId: r.releaseId, service: r.service, environment: r.environment, version: r.version, url: urlOf(r.service, r.environment) });
  const urlOf = (service: string, environment: string) => `http://${runtime.gatewayHost(service, environment)}:${runtime.gatewayPort() ?? 7080}`;

  /** The production rollout this run started in its canary step. */
  async function productionRollout(ctx: PlatformStepContext): Promise<RolloutView | PlatformStepResult> {
    const id = ctx.outputs.canary?.rolloutId;
    if (typeof id !== 'string') return skipped('no production rollout: the canary step deployed nothing');
    return delivery.getRollout(PIPELINES, id);
  }

  return {
    async deploy(ctx) {
      const d = await deployable(ctx);
      if ('status' in d) return d;
      const branch = ctx.run.ref.replace(/^refs\/heads\//, '');
      const environment = ctx.run.isDefaultBranch ? 'staging' : (await delivery.ensurePreview(ctx.run.repository, branch, ctx.run.ownerRef)).name;
      if (!ctx.run.isDefaultBranch) ctx.log(`branch ${branch} deploys to its preview environment ${environment}`);
      const started = await startOrAttach(ctx, environment, d);
      if ('status' in started) return started;
      const r = await follow(ctx, started.id, (v) => v.phase === 'succeeded');
      return ended(r) ?? (r.phase === 'succeeded' ? { status: 'passed', message: `${r.service} ${r.version} is live in ${environment} at ${urlOf(r.service, environment)}`, outputs: outputsOf(r) } : failed(`rollout ${r.id} is ${r.phase}`));
    },

    async performanceTest(ctx) {
      const staging = ctx.outputs.deploy;
      if (typeof staging?.service !== 'string') return skipped('nothing was deployed to staging');
      const d = await deployable(ctx);
      const path = 'status' in d ? '/' : readinessPath(d.score);
      const requests = numberInput(ctx.inputs.requests, 200);
      const concurrency = numberInput(ctx.inputs.concurrency, 8);
      const maxErrorRate = numberInput(ctx.inputs.maxErrorRate, 0.01);
      const maxP95Ms = numberInput(ctx.inputs.maxP95Ms, 1000);
      const port = runtime.gatewayPort();
      if (port === undefined) return failed('the gateway is not listening');
      const environment = typeof staging.environment === 'string' ? staging.environment : 'staging';
      const result = await load({ port, host: runtime.gatewayHost(staging.service, environment), path, requests, concurrency, signal: ctx.signal });
      const summary = `${requests} × GET ${path} at concurrency ${concurrency}: p50 ${result.p50Ms.toFixed(1)} ms, p95 ${result.p95Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ${result.errors} errors, ${result.rps.toFixed(0)} req/s`;
      ctx.log(summary);
      const outputs = { requests, errors: result.errors, p50Ms: result.p50Ms, p95Ms: result.p95Ms, p99Ms: result.p99Ms, rps: result.rps };
      const errorRate = result.errors / requests;
      if (errorRate > maxErrorRate) return { status: 'failed', message: `error rate ${(errorRate * 100).toFixed(1)}% is over ${(maxErrorRate * 100).toFixed(1)}% (${summary})`, outputs };
      if (result.p95Ms > maxP95Ms) return { status: 'failed', message: `p95 ${result.p95Ms.toFixed(0)} ms is over ${maxP95Ms} ms (${summary})`, outputs };
      return { status: 'passed', message: summary, outputs };
    },

    async canary(ctx) {
      const d = await deployable(ctx);
      if ('status' in d) return d;
      const started = await startOrAttach(ctx, 'production', d);
      if ('status' in started) return started;
      // The canary has traffic once the first step's weight is set (or the strategy replaced directly).
      const r = await follow(ctx, started.id, (v) => v.stepIndex >= 0 || v.phase === 'succeeded' || v.phase === 'awaiting-approval');
      return ended(r) ?? { status: 'passed', message: r.phase === 'succeeded' ? `${r.version} replaced the stable release` : `${r.version} takes ${r.weightPercent}% of production traffic`, outputs: outputsOf(r) };
    },

    async analysis(ctx) {
      const started = await productionRollout(ctx);
      if ('status' in started) return started;
      // The first canary step was judged healthy once the rollout moved past it.
      const r = await follow(ctx, started.id, (v) => v.phase === 'succeeded' || v.stepIndex >= 1 || (v.phase === 'awaiting-approval' && v.stepIndex >= 0));
      return ended(r) ?? { status: 'passed', message: `the canary passed analysis at ${r.weightPercent}%`, outputs: outputsOf(r) };
    },

    async progressiveRollout(ctx) {
      const started = await productionRollout(ctx);
      if ('status' in started) return started;
      let told = false;
      const r = await follow(ctx, started.id, (v) => {
        if (v.phase === 'awaiting-approval' && !told) {
          told = true;
          ctx.log(`waiting for an approval: plinth rollout promote ${v.service} --env production, or approve it in the portal`);
        }
        return v.phase === 'succeeded';
      });
      return ended(r) ?? (r.phase === 'succeeded' ? { status: 'passed', message: `${r.version} is stable in production`, outputs: outputsOf(r) } : failed(`rollout ${r.id} is ${r.phase}`));
    },

    async smokeTest(ctx) {
      const promoted = ctx.outputs['progressive-rollout'];
      if (typeof promoted?.service !== 'string') return skipped('nothing was promoted to production');
      const d = await deployable(ctx);
      const path = 'status' in d ? '/' : readinessPath(d.score);
      const port = runtime.gatewayPort();
      if (port === undefined) return failed('the gateway is not listening');
      const host = runtime.gatewayHost(promoted.service, 'production');
      const answer = await get({ port, host, path, timeoutMs: 5000 });
      ctx.log(`GET http://${host}${path} → ${answer.status ?? answer.error ?? '?'}`);
      return answer.status !== undefined && answer.status >= 200 && answer.status < 300
        ? { status: 'passed', message: `GET ${path} on ${host} answered ${answer.status}`, outputs: { status: answer.status } }
        : failed(`GET ${path} on ${host} answered ${answer.status ?? answer.error}; expected 2xx`);
    },
  };
}

/** `npm start` when the artifact's package.json has a start script and the Score file gives no command. */
async function defaultCommand(workspace: string): Promise<string[] | undefined> {
  const text = await readFile(join(workspace, 'package.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const pkg = JSON.parse(text) as { scripts?: Record<string, unknown> };
    return typeof pkg.scripts?.start === 'string' ? ['npm', 'start', '--silent'] : undefined;
  } catch {
    return undefined;
  }
}

const imageOf = (score: ScoreWorkload): string | undefined => Object.values(score.containers)[0]?.image;

const readinessPath = (score: ScoreWorkload): string => {
  const container = Object.values(score.containers)[0];
  return container?.readinessProbe?.httpGet?.path ?? container?.livenessProbe?.httpGet?.path ?? '/';
};

const numberInput = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback);

/** One GET through the gateway with the service's host name (Node does not resolve `*.localhost`). */
function get(input: { port: number; host: string; path: string; timeoutMs: number }): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: input.port, path: input.path, headers: { host: input.host }, timeout: input.timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${input.timeoutMs} ms`)));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}

/** A closed-loop load: `concurrency` workers issue `requests` GETs in all; latencies of every answer. */
async function load(input: { port: number; host: string; path: string; requests: number; concurrency: number; signal: AbortSignal }) {
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < input.requests && !input.signal.aborted) {
      issued++;
      const t0 = performance.now();
      const answer = await get({ port: input.port, host: input.host, path: input.path, timeoutMs: 10_000 });
      latencies.push(performance.now() - t0);
      if (answer.status === undefined || answer.status >= 500) errors++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, input.requests) }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { errors: errors + (input.requests - latencies.length), p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99), rps: latencies.length / seconds };
}
