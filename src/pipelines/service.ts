import { EventEmitter } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Git, RefPush, RefPushedPayload } from '../git/index.js';
import { authorize, ConflictError, newId, principalRef, toIso, type ClaimedJob, type Db, type JobContext, type JobOutcome, type Kernel, type Principal, type Subscription } from '../kernel/index.js';
import { createExternalRepositories, isExternalRepositoryName, type CheckoutSource, type ExternalRepositories } from './external/index.js';
import {
  isTerminalRun,
  pipelinePermissions,
  runStatusOf,
  runSubject,
  stageNames,
  stageStatusOf,
  STANDARD_PIPELINE_VERSION,
  toolchains,
  type LogLine,
  type PipelineEventPayloads,
  type Run,
  type RunDetail,
  type RunStatus,
  type Toolchain,
  type BuildArtifact,
  artifactRelativePath,
  PLINTH_YAML,
  runnerLabelsOf,
} from './model/index.js';
import { createBuildArtifactStep } from './artifacts/step.js';
import { defaultStepLimits, findExecutable, findSandbox, type Sandbox, type StepLimits } from './runner/process.js';
import { runPipeline, type PlatformStepHandler, type PlatformStepRunner, type RunRecorder } from './runner/run.js';
import { createRunnerBroker, runJobKind, runJobKinds, type RunnerBroker } from './runner-broker.js';
import { sweepCaches } from './runner/cache.js';
import * as q from './store.js';

export type { PlatformStepHandler, PlatformStepContext, PlatformStepResult } from './runner/run.js';

export interface PipelinesOptions {
  /** Secret values a run's steps receive as env; they are masked in every log. */
  secretsFor?: (run: Run) => Promise<Record<string, string>>;
  limits?: Partial<StepLimits>;
  /** Steps of one run running at once (default 2). */
  parallelism?: number;
  /** Bytes all package-manager caches of this runner may take together (default 2 GiB; least recently used go first). */
  cacheMaxBytes?: number;
  /** Whether this server runs pipelines itself (default true); false leaves every run to external runners (`plinth runner`). */
  embeddedRunner?: boolean;
}

/** The standard pipeline engine: runs on every push, steps plugged in by other layers. */
export interface Pipelines {
  /** Installs the implementation of a platform step kind (e.g. `security.sbom`); until then it reports not-installed. */
  registerStep(kind: string, handler: PlatformStepHandler): void;
  listRuns(principal: Principal, query: { repository?: string; status?: RunStatus; limit: number; cursor?: string }): Promise<{ items: Run[]; nextCursor: string | null }>;
  getRun(principal: Principal, id: string): Promise<RunDetail>;
  logs(principal: Principal, id: string, query: { afterSeq?: number; step?: string; limit?: number }): Promise<LogLine[]>;
  /** Calls `listener` with stored lines after `afterSeq`, then live ones; `onEnd` once the run is over and every line delivered. */
  followLogs(principal: Principal, id: string, afterSeq: number, listener: (line: LogLine) => void, onEnd: () => void): Promise<() => void>;
  rerun(principal: Principal, id: string): Promise<Run>;
  cancel(principal: Principal, id: string): Promise<Run>;
  /** A build artifact by digest (readers of pipeline runs). */
  getArtifact(principal: Principal, digest: string): Promise<BuildArtifact>;
  /** The absolute path of an artifact's bytes in the content-addressed store (which may not hold it). */
  artifactFile(digest: string): string;
  /** Creates the run for a push (idempotent per repository, commit and attempt 1). */
  runForPush(push: RefPush): Promise<Run | undefined>;
  /** Repositories hosted elsewhere, whose push webhooks create runs of `external/<name>`. */
  readonly external: ExternalRepositories;
  /** External runners (`plinth runner`) claim runs and report on them through this. */
  readonly runners: RunnerBroker;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export { RUN_JOB } from './runner-broker.js';
const RunJobPayload = z.object({ runId: z.string().min(1).max(100) });
const SYSTEM = 'system:pipelines';
const PUSH_CURSOR = 'pushes';

export function createPipelines(kernel: Kernel, deps: { git: Git; options?: PipelinesOptions }): Pipelines {
  const { store, ledger, clock, jobs } = kernel;
  const log = kernel.logger.child({ layer: 'pipelines' });
  const options = deps.options ?? {};
  const registry = new Map<string, PlatformStepHandler>();
  const logEvents = new EventEmitter();
  logEvents.setMaxListeners(0);
  const root = join(kernel.config.dataDir, 'pipelines');
  const limits: StepLimits = { ...defaultStepLimits, ...options.limits };
  let sandbox: Sandbox = { prlimit: undefined, bwrap: undefined, nice: undefined };
  let available = new Set<Toolchain>();
  let subscription: Subscription | undefined;
  let pushChain: Promise<unknown> = Promise.resolve();
  const now = () => toIso(clock.now());
  registry.set('pipelines.build-artifact', createBuildArtifactStep({ store, ledger, dataDir: kernel.config.dataDir, now }));

  const append = <K extends keyof PipelineEventPayloads>(db: Parameters<typeof ledger.append>[1], kind: K, run: Run, payload: PipelineEventPayloads[K], actor = SYSTEM) =>
    ledger.append({ kind, subjects: [runSubject(run.id), `repository:${run.repository}`, run.ownerRef], actor, payload }, db);

  /** Inserts the run, its job and its ledger event together (inside `db`'s transaction when given one). */
  /** The runner labels the commit's plinth.yaml asks for; an external repository's file is not here before its checkout. */
  async function requiredLabels(repository: string, sha: string): Promise<string[]> {
    if (isExternalRepositoryName(repository)) return [];
    const [owner, name] = repository.split('/') as [string, string];
    try {
      const file = await deps.git.readFile({ kind: 'system', name: 'pipelines' }, { owner, name, ref: sha, path: PLINTH_YAML }, { maxBytes: 256 * 1024 });
      return runnerLabelsOf(file.content.toString('utf8'));
    } catch {
      return []; // no plinth.yaml at that commit (or too large: the config step says so)
    }
  }

  async function createRun(input: Omit<Run, 'id' | 'status' | 'definitionVersion' | 'jobId' | 'createdAt' | 'startedAt' | 'finishedAt' | 'runner'>, db: Db = store): Promise<Run | undefined> {
    const run: Run = { ...input, id: newId(), status: 'queued', definitionVersion: STANDARD_PIPELINE_VERSION, jobId: null, createdAt: now(), startedAt: null, finishedAt: null, runner: null };
    // Runs needing labels are jobs of their own kind, claimed only by runners offering every one of them.
    const kind = runJobKind(await requiredLabels(run.repository, run.sha));
    return db.transaction(async (tx) => {
      const inserted = await q.insertRun(tx, run);
      if (!inserted) return undefined;
      const { job } = await jobs.enqueue({ kind, payload: { runId: run.id }, idempotencyKey: `pipelines.run:${run.id}`, maxAttempts: 2 }, { db: tx });
      await q.setRunJob(tx, run.id, job.id);
      await append({ db: tx }, 'pipelines.run.queued', run, { runId: run.id, repository: run.repository, sha: run.sha, ref: run.ref, attempt: run.attempt, trigger: run.trigger }, input.createdBy);
      return { ...run, jobId: job.id };
    });
  }

  function createRunForPush(push: RefPushedPayload, db?: Db): Promise<Run | undefined> {
    if (push.newSha === null || !push.ref.startsWith('refs/heads/')) return Promise.resolve(undefined);
    return createRun({
      repository: push.repository, ownerRef: push.ownerRef, ref: push.ref, sha: push.newSha, isDefaultBranch: push.isDefaultBranch,
      attempt: 1, trigger: 'push', createdBy: push.pusher,
    }, db);
  }
  const external = createExternalRepositories(kernel, { git: deps.git, createRun: createRunForPush });

  /** A hosted repository's bare repository on disk, or an external one's URL with its credentials. */
  async function sourceOf(run: Run): Promise<CheckoutSource | { problem: string }> {
    if (isExternalRepositoryName(run.repository)) return external.checkoutSource(run.repository);
    const [owner, name] = run.repository.split('/') as [string, string];
    return { source: join(kernel.config.dataDir, 'repos', owner, `${name}.git`), env: {}, maskValues: [] };
  }

  /** Runs a platform step's handler in this process; external runners' platform steps run here too. */
  const platformStepRunner = (run: Run): PlatformStepRunner => async (uses, ctx) => {
    const handler = registry.get(uses);
    return handler ? handler({ ...ctx, run }) : 'not-installed';
  };

  /**
   * Writes a run's progress to the store: the embedded runner's recorder, and the one the API writes
   * through for an external runner. Lines are numbered here, in the order they arrive.
   */
  async function storeRecorder(run: Run, runPlatformStep: PlatformStepRunner): Promise<RunRecorder> {
    let seq = await q.lastLogSeq(store, run.id);
    let appending: Promise<void> = Promise.resolve();
    return {
      appendLogs(lines) {
        const numbered = lines.map((l) => ({ ...l, seq: ++seq }));
        appending = appending.then(async () => {
          await q.insertLogLines(store, run.id, numbered);
          // Followers get the stored lines themselves: no read back per follower and batch.
          logEvents.emit(run.id, numbered);
        });
        return appending;
      },
      replaceSteps: (steps) => q.replaceSteps(store, run.id, steps),
      async updateStep(step, finished) {
        await q.updateStep(store, run.id, step);
        if (finished) {
          await append(undefined, 'pipelines.step.finished', run, { runId: run.id, repository: run.repository, stage: step.stage, step: step.name, status: step.status, attempts: step.attempts, durationMs: step.durationMs, exitCode: step.exitCode });
        }
      },
      replaceTestResults: (step, tests) => q.replaceTestResults(store, run.id, step, tests),
      runPlatformStep,
    };
  }

  /** Marks a claimed run running on `runner` (with its ledger event the first time); true when it was already running (resumed). */
  async function beginRun(run: Run, runner: string): Promise<boolean> {
    const resumed = run.status === 'running';
    const startedAt = now();
    await store.transaction(async (tx) => {
      if (await q.transitionRun(tx, run.id, ['queued', 'running'], { status: 'running', startedAt: run.startedAt ?? startedAt, runner })) {
        if (!resumed) await append({ db: tx }, 'pipelines.run.started', run, { runId: run.id, repository: run.repository, sha: run.sha });
      }
    });
    return resumed;
  }

  async function readable(principal: Principal, id: string): Promise<Run> {
    authorize(principal, pipelinePermissions.read);
    return q.selectRun(store, id);
  }

  async function handleRun(job: ClaimedJob, ctx: JobContext): Promise<JobOutcome> {
    const payload = RunJobPayload.safeParse(job.payload);
    if (!payload.success) return { kind: 'fail', reason: 'malformed pipelines.run payload' };
    const run = await q.findRun(store, payload.data.runId);
    if (!run || isTerminalRun(run.status)) return { kind: 'done' };
    const resumed = await beginRun(run, `embedded@${job.workerId ?? 'server'}`);
    const from = await sourceOf(run);
    if ('problem' in from) {
      await q.insertLogLines(store, run.id, [{ seq: (await q.lastLogSeq(store, run.id)) + 1, time: now(), step: 'checkout', stream: 'system', text: from.problem }]);
      await finishRun(run, 'failed');
      return { kind: 'done', output: { status: 'failed' } };
    }
    const secrets = (await options.secretsFor?.(run)) ?? {};
    const statuses = await runPipeline({
      run, resumed, recorder: await storeRecorder(run, platformStepRunner(run)), sandbox, limits, available, secrets, signal: ctx.signal,
      parallelism: options.parallelism ?? 2,
      dataDir: kernel.config.dataDir,
      source: from.source,
      sourceEnv: from.env,
      maskValues: from.maskValues,
      workspace: join(root, 'workspaces', run.id),
      home: join(root, 'homes', run.id),
      caches: { root: join(root, 'caches'), maxBytes: options.cacheMaxBytes ?? 2 * 1024 ** 3 },
      now,
    });
    // Shutdown or a lost lease: the run stays running and the job's next attempt resumes it.
    if (ctx.signal.aborted && ctx.signal.reason !== 'cancelled') return { kind: 'retry', error: new Error(`run interrupted (${String(ctx.signal.reason)})`) };
    const status: RunStatus = ctx.signal.aborted ? 'cancelled' : runStatusOf([...statuses.values()]);
    await finishRun(run, status);
    await rm(join(root, 'workspaces', run.id), { recursive: true, force: true });
    await rm(join(root, 'homes', run.id), { recursive: true, force: true });
    return { kind: 'done', output: { status } };
  }

  async function finishRun(run: Run, status: RunStatus): Promise<void> {
    const finishedAt = now();
    const steps = await q.selectSteps(store, run.id);
    await store.transaction(async (tx) => {
      if (!(await q.transitionRun(tx, run.id, ['queued', 'running'], { status, finishedAt }))) return;
      const started = run.startedAt ?? (await q.selectRun(tx, run.id)).startedAt;
      await append({ db: tx }, 'pipelines.run.finished', run, {
        runId: run.id, repository: run.repository, sha: run.sha, ref: run.ref, status,
        durationMs: started !== null ? Date.parse(finishedAt) - Date.parse(started) : null,
        failedSteps: steps.filter((s) => s.status === 'failed' || s.status === 'timed-out').map((s) => s.name),
      });
    });
    logEvents.emit(run.id);
  }

  const runners = createRunnerBroker({
    kernel, root, sourceOf, beginRun, finishRun, storeRecorder, platformStepRunner,
    secretsFor: async (run) => (await options.secretsFor?.(run)) ?? {},
  });

  return {
    registerStep(kind, handler) {
      if (!/^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/.test(kind)) throw new Error(`step kind "${kind}" is not layer.step-name`);
      if (registry.has(kind)) throw new Error(`a handler for step kind ${kind} is already registered`);
      registry.set(kind, handler);
    },

    async listRuns(principal, query) {
      authorize(principal, pipelinePermissions.read);
      const after = query.cursor !== undefined ? await q.findRun(store, query.cursor) : undefined;
      const rows = await q.selectRuns(store, { repository: query.repository, status: query.status, limit: query.limit + 1, after });
      const items = rows.slice(0, query.limit);
      return { items, nextCursor: rows.length > query.limit ? items[items.length - 1]!.id : null };
    },

    async getRun(principal, id) {
      const run = await readable(principal, id);
      const steps = await q.selectSteps(store, id);
      const stages = stageNames
        .map((stage) => ({ stage, steps: steps.filter((s) => s.stage === stage) }))
        .filter((s) => s.steps.length > 0)
        .map(({ stage, steps: of }) => ({ name: stage, status: stageStatusOf(of.map((s) => s.status)), steps: of }));
      return { ...run, stages, tests: await q.selectTestResults(store, id) };
    },

    async logs(principal, id, query) {
      await readable(principal, id);
      return q.selectLogLines(store, id, { afterSeq: query.afterSeq, step: query.step, limit: Math.min(query.limit ?? 100_000, 100_000) });
    },

    async followLogs(principal, id, afterSeq, listener, onEnd) {
      await readable(principal, id);
      let last = afterSeq;
      let closed = false;
      let reading: Promise<void> | undefined;
      let again = false;
      // Wake-ups say "something new"; the store says what. A poll covers runs on other replicas.
      // Lines are only sent once stored, so a client resuming with Last-Event-ID misses none.
      const pump = () => {
        if (reading) {
          again = true;
          return;
        }
        reading = (async () => {
          do {
            again = false;
            const run = await q.selectRun(store, id);
            for (;;) {
              const lines = await q.selectLogLines(store, id, { afterSeq: last, limit: 1000 });
              for (const line of lines) if (!closed) listener(line);
              if (lines.length > 0) last = lines[lines.length - 1]!.seq;
              if (lines.length < 1000) break;
            }
            if (isTerminalRun(run.status) && !closed) {
              closed = true;
              onEnd();
            }
          } while (again && !closed);
        })()
          .catch((err: unknown) => log.warn({ err, runId: id }, 'reading logs for a follower failed'))
          .finally(() => (reading = undefined));
      };
      // A wake-up carrying the lines right after the last one sent delivers them as they are; any gap
      // (a line stored elsewhere, a read in progress) goes through the store, in order.
      const wake = (lines?: readonly LogLine[]) => {
        if (reading || closed || lines === undefined || lines.length === 0 || lines[0]!.seq !== last + 1) return pump();
        for (const line of lines) listener(line);
        last = lines[lines.length - 1]!.seq;
      };
      logEvents.on(id, wake);
      const poll = setInterval(pump, 1000);
      poll.unref();
      pump();
      return () => {
        closed = true;
        logEvents.off(id, wake);
        clearInterval(poll);
      };
    },

    async rerun(principal, id) {
      const run = await readable(principal, id);
      authorize(principal, pipelinePermissions.operate, { type: 'pipeline run', id, ownerRef: run.ownerRef });
      for (let tries = 0; tries < 3; tries++) {
        const attempt = (await q.maxAttempt(store, run.repository, run.sha)) + 1;
        const created = await createRun({ repository: run.repository, ownerRef: run.ownerRef, ref: run.ref, sha: run.sha, isDefaultBranch: run.isDefaultBranch, attempt, trigger: 'rerun', createdBy: principalRef(principal) });
        if (created) return created;
      }
      throw new ConflictError(`run ${id} is being rerun by someone else right now; list the runs of ${run.repository}`);
    },

    async cancel(principal, id) {
      const run = await readable(principal, id);
      authorize(principal, pipelinePermissions.operate, { type: 'pipeline run', id, ownerRef: run.ownerRef });
      if (isTerminalRun(run.status)) throw new ConflictError(`run ${id} is already ${run.status}`);
      if (run.jobId !== null) await jobs.cancel(run.jobId);
      // A queued run never reaches a runner: finish it here. A running one is finished by its runner.
      if (run.status === 'queued') await finishRun(run, 'cancelled');
      return q.selectRun(store, id);
    },

    async getArtifact(principal, digest) {
      authorize(principal, pipelinePermissions.read);
      return q.selectArtifact(store, digest);
    },

    artifactFile: (digest) => join(kernel.config.dataDir, artifactRelativePath(digest)),

    runForPush: (push) => createRunForPush(push),

    external,

    runners,

    async start() {
      await mkdir(join(root, 'workspaces'), { recursive: true });
      // Copies of external runners' workspaces from before a restart: their runs resume with fresh uploads.
      await rm(join(root, 'runner-workspaces'), { recursive: true, force: true });
      await sweepCaches(join(root, 'caches'));
      const found = await Promise.all(toolchains.map(async (tool) => [tool, await findExecutable(tool, process.env)] as const));
      available = new Set(found.filter(([, path]) => path !== undefined).map(([tool]) => tool));
      sandbox = await findSandbox(process.env);
      log.info({ toolchains: [...available], sandbox }, 'pipeline runner ready');
      // The embedded runner takes the runs that need no label, or only labels of the toolchains found here.
      if (options.embeddedRunner !== false) for (const kind of runJobKinds([...available])) jobs.register(kind, handleRun);
      const afterSeq = await q.readCursor(store, PUSH_CURSOR);
      subscription = deps.git.subscribePushes({ afterSeq }, (push) => {
        // One push at a time, in ledger order; the cursor moves after the run exists.
        pushChain = pushChain
          .then(async () => {
            await this.runForPush(push);
            await q.advanceCursor(store, PUSH_CURSOR, push.seq);
          })
          .catch((err: unknown) => log.error({ err, seq: push.seq }, 'could not create the run for a push'));
      });
      await subscription.ready;
    },

    async stop() {
      subscription?.close();
      await pushChain;
    },
  };
}
