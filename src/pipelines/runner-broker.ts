/**
 * The server's side of external runners (`plinth runner`): a runner claims a run's job through the API
 * with a lease, heartbeats it, and writes the run's steps, logs and test results here, each write fenced
 * by the lease, so a runner that lost its lease (killed, cut off) cannot finish a run another runner took
 * over. Platform steps (scans, signing, deploys) run in the server, on a copy of the runner's workspace
 * the runner uploads when a platform step needs it.
 */
import { spawnOffThread } from '../kernel/index.js';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { authorize, ConflictError, InputError, NotFoundError, type ClaimedJob, type Kernel, type Permission, type Principal } from '../kernel/index.js';
import type { CheckoutSource } from './external/index.js';
import { isTerminalRun, maskPatterns, maskText, MAX_RUNNER_LABELS, runStatusOf, type RecordedTest, type Run, type RunStatus, type Step } from './model/index.js';
import type { PlatformStepResult, PlatformStepRunner, RunRecorder, LogEntry } from './runner/run.js';
import * as q from './store.js';

export const RUN_JOB = 'pipelines.run';

/** The job kind of a run needing `labels` (`pipelines.run:gpu+node`); no labels, any runner takes it. */
export function runJobKind(labels: readonly string[]): string {
  const sorted = [...new Set(labels)].sort();
  return sorted.length === 0 ? RUN_JOB : `${RUN_JOB}:${sorted.join('+')}`;
}

/** The job kinds a runner with `labels` takes: the run kinds of every subset of its labels. */
export function runJobKinds(labels: readonly string[]): string[] {
  const sorted = [...new Set(labels)].sort();
  if (sorted.length > MAX_RUNNER_LABELS) throw new InputError(`labels: a runner may advertise at most ${MAX_RUNNER_LABELS} labels; got ${sorted.length}`);
  const kinds: string[] = [];
  for (let mask = 0; mask < 1 << sorted.length; mask++) kinds.push(runJobKind(sorted.filter((_, i) => mask & (1 << i))));
  return kinds;
}

export const runnerPermission: Permission = { name: 'run pipelines as an external runner', verb: 'admin' };

export interface LeaseRef {
  jobId: string;
  token: string;
}

/** What a runner gets with a claimed run: enough to check it out and run it. */
export interface RunnerAssignment {
  lease: { jobId: string; token: string; leaseMs: number };
  run: Run;
  /** The run was started before (by a runner that stopped): its plan starts afresh, its logs stay. */
  resumed: boolean;
  /** A hosted repository is cloned from the server (`/git/<repository>.git`) with the runner's token; an external one from its URL. */
  checkout: { kind: 'hosted'; repository: string } | { kind: 'url'; url: string; username?: string; password?: string };
  /** Env every step gets (masked in every log); and values masked that steps do not get (a clone token). */
  secrets: Record<string, string>;
  maskValues: string[];
}

export type RunnerOutcome = 'completed' | 'cancelled' | 'interrupted';

export interface RunnerBroker {
  claim(principal: Principal, input: { name: string; labels: readonly string[]; leaseMs: number; waitMs: number; signal?: AbortSignal }): Promise<RunnerAssignment | undefined>;
  /** Extends the lease by `leaseMs`; 409 when it was lost. */
  heartbeat(principal: Principal, lease: LeaseRef, leaseMs: number): Promise<'held' | 'cancel-requested'>;
  appendLogs(principal: Principal, lease: LeaseRef, lines: readonly LogEntry[]): Promise<void>;
  replaceSteps(principal: Principal, lease: LeaseRef, steps: readonly Step[]): Promise<void>;
  updateStep(principal: Principal, lease: LeaseRef, step: Step, finished: boolean): Promise<void>;
  replaceTestResults(principal: Principal, lease: LeaseRef, step: string, tests: readonly RecordedTest[]): Promise<void>;
  /** Unpacks the runner's workspace (a .tar.gz stream) as `generation`; platform steps of that generation run on it. */
  receiveWorkspace(principal: Principal, lease: LeaseRef, generation: number, body: Readable, maxBytes: number): Promise<{ bytes: number }>;
  runPlatformStep(principal: Principal, lease: LeaseRef, input: { step: string; uses: string; generation: number; inputs: Record<string, unknown>; env: Record<string, string> }): Promise<PlatformStepResult | 'not-installed'>;
  /** `completed`: the status follows from the recorded steps; `interrupted`: the runner is stopping, the run goes back to the queue. */
  finish(principal: Principal, lease: LeaseRef, outcome: RunnerOutcome): Promise<Run>;
}

export interface RunnerBrokerDeps {
  kernel: Kernel;
  root: string;
  sourceOf(run: Run): Promise<CheckoutSource | { problem: string }>;
  secretsFor(run: Run): Promise<Record<string, string>>;
  beginRun(run: Run, runner: string): Promise<boolean>;
  finishRun(run: Run, status: RunStatus): Promise<void>;
  storeRecorder(run: Run, runPlatformStep: PlatformStepRunner): Promise<RunRecorder>;
  platformStepRunner(run: Run): PlatformStepRunner;
}

/** A lease this server has seen: the run it is for, its recorder, and what its platform steps run on. */
interface Active {
  job: ClaimedJob;
  run: Run;
  recorder: RunRecorder;
  /** The env the run's steps get; its values are masked in every line written here. */
  secrets: Record<string, string>;
  patterns: readonly string[];
  abort: AbortController;
  workspaces: Map<number, string>;
}

export function createRunnerBroker(deps: RunnerBrokerDeps): RunnerBroker {
  const { kernel } = deps;
  const { jobs, store } = kernel;
  const active = new Map<string, Active>();
  const workspaceRoot = join(deps.root, 'runner-workspaces');

  async function activate(job: ClaimedJob, run: Run): Promise<Active> {
    const secrets = await deps.secretsFor(run);
    const entry: Active = { job, run, recorder: await deps.storeRecorder(run, deps.platformStepRunner(run)), secrets, patterns: maskPatterns(Object.values(secrets)), abort: new AbortController(), workspaces: new Map() };
    active.set(job.id, entry);
    return entry;
  }

  async function release(jobId: string) {
    const entry = active.get(jobId);
    active.delete(jobId);
    entry?.abort.abort('released');
    if (entry) await rm(join(workspaceRoot, entry.run.id), { recursive: true, force: true });
  }

  /** The lease's state, checked against the queue on every write: a runner that lost it is refused. */
  async function held(principal: Principal, lease: LeaseRef): Promise<Active> {
    authorize(principal, runnerPermission);
    if (!(await jobs.leases.holds({ id: lease.jobId, leaseToken: lease.token }))) {
      await release(lease.jobId);
      throw new ConflictError(`the lease on job ${lease.jobId} is no longer held (it expired, or the run was cancelled or finished); stop working on it`);
    }
    const known = active.get(lease.jobId);
    if (known && known.job.leaseToken === lease.token) return known;
    // Another replica handed the lease out, or this server restarted since.
    const job: ClaimedJob = { ...(await jobs.get(lease.jobId)), leaseToken: lease.token };
    const runId = (job.payload as { runId?: unknown } | null)?.runId;
    const run = typeof runId === 'string' ? await q.findRun(store, runId) : undefined;
    if (!run) throw new NotFoundError(`job ${lease.jobId} is not a pipeline run`);
    return activate(job, run);
  }

  return {
    async claim(principal, input) {
      authorize(principal, runnerPermission);
      const kinds = runJobKinds(input.labels);
      const deadline = Date.now() + input.waitMs;
      for (;;) {
        const job = await jobs.leases.claim({ kinds, workerId: `runner:${input.name}`, leaseMs: input.leaseMs, waitMs: Math.max(0, deadline - Date.now()), signal: input.signal });
        if (!job) return undefined;
        const runId = (job.payload as { runId?: unknown } | null)?.runId;
        const run = typeof runId === 'string' ? await q.findRun(store, runId) : undefined;
        if (!run || isTerminalRun(run.status)) {
          await jobs.leases.settle(job, { kind: 'done' });
          continue;
        }
        const resumed = await deps.beginRun(run, input.name);
        const from = await deps.sourceOf(run);
        if ('problem' in from) {
          const entry = await activate(job, run);
          await entry.recorder.appendLogs([{ time: new Date().toISOString(), step: 'checkout', stream: 'system', text: from.problem }]);
          await deps.finishRun(run, 'failed');
          await jobs.leases.settle(job, { kind: 'done', output: { status: 'failed' } });
          await release(job.id);
          continue;
        }
        const entry = await activate(job, { ...run, status: 'running' });
        const hosted = !/^[a-z][a-z0-9+.-]*:\/\//i.test(from.source);
        const checkout: RunnerAssignment['checkout'] = hosted
          ? { kind: 'hosted', repository: run.repository }
          : { kind: 'url', url: from.source, ...(from.env.PLINTH_GIT_USERNAME !== undefined ? { username: from.env.PLINTH_GIT_USERNAME } : {}), ...(from.env.PLINTH_GIT_PASSWORD !== undefined ? { password: from.env.PLINTH_GIT_PASSWORD } : {}) };
        return { lease: { jobId: job.id, token: job.leaseToken, leaseMs: input.leaseMs }, run: entry.run, resumed, checkout, secrets: entry.secrets, maskValues: from.maskValues };
      }
    },

    async heartbeat(principal, lease, leaseMs) {
      authorize(principal, runnerPermission);
      const state = await jobs.leases.renew({ id: lease.jobId, leaseToken: lease.token }, leaseMs);
      if (state === 'lost') {
        await release(lease.jobId);
        throw new ConflictError(`the lease on job ${lease.jobId} is no longer held (it expired and the run went back to the queue); stop working on it`);
      }
      if (state === 'cancel-requested') active.get(lease.jobId)?.abort.abort('cancelled');
      return state;
    },

    async appendLogs(principal, lease, lines) {
      const entry = await held(principal, lease);
      // The runner masks its lines already; masking again here keeps a secret out even from a careless runner.
      await entry.recorder.appendLogs(lines.map((l) => ({ ...l, text: maskText(l.text, entry.patterns) })));
    },

    async replaceSteps(principal, lease, steps) {
      await (await held(principal, lease)).recorder.replaceSteps(steps);
    },

    async updateStep(principal, lease, step, finished) {
      await (await held(principal, lease)).recorder.updateStep(step, finished);
    },

    async replaceTestResults(principal, lease, step, tests) {
      await (await held(principal, lease)).recorder.replaceTestResults(step, tests);
    },

    async receiveWorkspace(principal, lease, generation, body, maxBytes) {
      const entry = await held(principal, lease);
      const dir = join(workspaceRoot, entry.run.id, String(generation));
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const bytes = await untar(body, dir, maxBytes);
      // Only the newest generation is kept: platform steps run on what the shell steps left last.
      for (const [g, path] of entry.workspaces) {
        if (g < generation) {
          entry.workspaces.delete(g);
          await rm(path, { recursive: true, force: true });
        }
      }
      entry.workspaces.set(generation, dir);
      return { bytes };
    },

    async runPlatformStep(principal, lease, input) {
      const entry = await held(principal, lease);
      const workspace = entry.workspaces.get(input.generation);
      if (workspace === undefined) throw new ConflictError(`workspace generation ${input.generation} of run ${entry.run.id} has not been uploaded to this server; PUT it first`);
      // Outputs come from what is recorded, as in the embedded runner: only passed steps hand them on.
      const outputs = Object.fromEntries((await q.selectSteps(store, entry.run.id)).filter((s) => s.status === 'passed' && s.outputs !== null).map((s) => [s.name, s.outputs!]));
      try {
        return await entry.recorder.runPlatformStep(input.uses, {
          step: input.step, workspace, outputs, inputs: input.inputs, env: input.env, signal: entry.abort.signal,
          log: (line) => void entry.recorder.appendLogs([{ time: new Date().toISOString(), step: input.step, stream: 'stdout', text: maskText(line, entry.patterns) }]),
        });
      } catch (err) {
        // As in the embedded runner: a step that throws failed, with its reason (masked) on the run.
        return { status: 'failed', message: maskText(`the ${input.uses} step failed: ${(err as Error).message}`, entry.patterns) };
      }
    },

    async finish(principal, lease, outcome) {
      const entry = await held(principal, lease);
      const { job, run } = entry;
      const fresh = { ...job, ...(await jobs.get(job.id)), leaseToken: job.leaseToken };
      if (outcome === 'interrupted') {
        await jobs.leases.settle(fresh, { kind: 'retry', error: new Error('the runner stopped') }, 'shutdown');
      } else if (outcome === 'cancelled') {
        await deps.finishRun(run, 'cancelled');
        await jobs.leases.settle(fresh, { kind: 'done' }, 'cancelled');
      } else {
        const status = runStatusOf((await q.selectSteps(store, run.id)).map((s) => s.status));
        await deps.finishRun(run, status);
        await jobs.leases.settle(fresh, { kind: 'done', output: { status } });
      }
      await release(job.id);
      return q.selectRun(store, run.id);
    },
  };
}

/** Extracts a .tar.gz stream into `dir` with the system's tar (no owners, no absolute or `..` paths); refuses more than `maxBytes`. */
function untar(body: Readable, dir: string, maxBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // Spawned (and read) off the event loop, which serves every runner's log lines meanwhile.
    const tar = spawnOffThread('tar', ['-xzf', '-', '-C', dir, '--no-same-owner', '--no-overwrite-dir'], { stdin: 'pipe' });
    tar.stdout.resume(); // -x writes nothing there
    let bytes = 0;
    let stderr = '';
    let failure: Error | undefined;
    tar.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')).slice(-2000));
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes && !failure) {
        failure = new InputError(`the workspace is larger than ${maxBytes} bytes compressed; clean build outputs the platform steps do not need`);
        body.unpipe(tar.stdin!);
        tar.kill('SIGKILL');
      }
    });
    body.on('error', (err) => {
      failure ??= err;
      tar.kill('SIGKILL');
    });
    tar.stdin!.on('error', () => undefined);
    body.pipe(tar.stdin!);
    tar.on('error', reject);
    tar.on('close', (code: number | null) => {
      if (failure) return reject(failure);
      if (code !== 0) return reject(new InputError(`the workspace archive could not be unpacked: ${stderr.trim() || `tar exited with ${code}`}`));
      resolve(bytes);
    });
  });
}
