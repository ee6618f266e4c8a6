/**
 * An external runner (`plinth runner`): claims runs from a Plinth server over its API, runs their shell
 * steps here (same sandbox, limits, caches and masking as the embedded runner), and reports steps, logs
 * and test results back under a lease it heartbeats. Platform steps run in the server on a copy of this
 * runner's workspace. A runner that dies stops heartbeating; its lease expires and the run goes back to
 * the queue for another runner, and anything the dead runner sends afterwards is refused.
 */
import { spawnOffThread } from '../../kernel/index.js';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ASKPASS } from '../external/index.js';
import { toolchains, type Run, type Toolchain } from '../model/index.js';
import type { RunnerAssignment, RunnerOutcome } from '../runner-broker.js';
import { sweepCaches } from './cache.js';
import { defaultStepLimits, findExecutable, findSandbox, type Sandbox, type StepLimits } from './process.js';
import { runPipeline, type LogEntry, type PlatformStepResult, type RunRecorder } from './run.js';

export interface RunnerAgentOptions {
  /** The server's base URL (`http://127.0.0.1:7007`). */
  server: string;
  token: string;
  name: string;
  /** Labels besides the toolchains found on this machine (which are always advertised). */
  labels: readonly string[];
  concurrency: number;
  /** Where workspaces, homes and caches live; steps cannot read it beyond their own workspace. */
  workDir: string;
  leaseSeconds: number;
  /** Steps of one run at once. */
  parallelism?: number;
  limits?: Partial<StepLimits>;
  cacheMaxBytes?: number;
  /** Stops claiming; running runs are handed back to the queue (interrupted) and the agent resolves. */
  signal: AbortSignal;
  /** Progress for the person who started the runner. */
  say(line: string): void;
}

export class RunnerHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** JSON over HTTP with the runner's token; no client-side timeout (a platform step such as a canary may take many minutes). */
function createApi(server: string, token: string) {
  const base = new URL(server);
  const send = (method: string, path: string, options: { json?: unknown; body?: NodeJS.ReadableStream; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<{ status: number; body: unknown }> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, base);
      const payload = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...options.headers };
      if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, ...(options.signal ? { signal: options.signal } : {}) }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = undefined;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = text;
          }
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            const message = (body as { error?: { message?: string } } | undefined)?.error?.message ?? text.slice(0, 500);
            return reject(new RunnerHttpError(status, `${method} ${url.pathname} answered ${status}: ${message}`));
          }
          resolve({ status, body });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (options.body) options.body.pipe(req);
      else req.end(payload);
    });
  return { send };
}
type Api = ReturnType<typeof createApi>;

export async function runRunnerAgent(options: RunnerAgentOptions): Promise<void> {
  const api = createApi(options.server, options.token);
  const { workDir } = options;
  await mkdir(join(workDir, 'workspaces'), { recursive: true });
  await sweepCaches(join(workDir, 'caches'));
  const askpass = join(workDir, 'git-askpass.sh');
  await writeFile(askpass, ASKPASS, { mode: 0o700 });
  await chmod(askpass, 0o700);
  const found = await Promise.all(toolchains.map(async (tool) => [tool, await findExecutable(tool, process.env)] as const));
  const available = new Set<Toolchain>(found.filter(([, path]) => path !== undefined).map(([tool]) => tool));
  const sandbox: Sandbox = await findSandbox(process.env);
  const limits: StepLimits = { ...defaultStepLimits, ...options.limits };
  const labels = [...new Set([...available, ...options.labels])].sort();
  options.say(`runner ${options.name} on ${options.server}: labels ${labels.join(', ') || '(none)'}; ${options.concurrency} at a time; sandbox ${sandbox.bwrap ? 'bubblewrap' : sandbox.prlimit ? 'prlimit only' : 'none'}`);

  const slot = async () => {
    let backoffMs = 500;
    while (!options.signal.aborted) {
      let assignment: RunnerAssignment | undefined;
      try {
        const claimed = await api.send('POST', '/api/pipelines/runner/claim', { json: { name: options.name, labels, leaseSeconds: options.leaseSeconds, waitSeconds: 20 }, signal: options.signal });
        assignment = claimed.status === 200 ? (claimed.body as RunnerAssignment) : undefined;
        backoffMs = 500;
      } catch (err) {
        if (options.signal.aborted) break;
        // 401/403 will not heal by waiting: stop and say why.
        if (err instanceof RunnerHttpError && (err.status === 401 || err.status === 403)) throw err;
        options.say(`could not reach the server (${(err as Error).message}); retrying in ${backoffMs} ms`);
        await sleep(backoffMs, options.signal);
        backoffMs = Math.min(backoffMs * 2, 15_000);
        continue;
      }
      if (assignment) await execute(api, assignment, { ...options, askpass, available, sandbox, limits });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, slot));
}

interface ExecuteContext extends RunnerAgentOptions {
  askpass: string;
  available: ReadonlySet<Toolchain>;
  sandbox: Sandbox;
  limits: StepLimits;
}

async function execute(api: Api, assignment: RunnerAssignment, ctx: ExecuteContext): Promise<void> {
  const { run, lease } = assignment;
  const started = Date.now();
  const leasePath = `/api/pipelines/runner/leases/${encodeURIComponent(lease.jobId)}`;
  const headers = { 'x-plinth-lease': lease.token };
  const abort = new AbortController();
  // Stopping the runner interrupts its runs: they go back to the queue, not to "cancelled".
  const onStop = () => abort.abort('interrupted');
  ctx.signal.addEventListener('abort', onStop);
  if (ctx.signal.aborted) onStop();
  ctx.say(`run ${run.id}: ${run.repository}@${run.sha.slice(0, 7)} (${run.ref})${assignment.resumed ? ', resumed' : ''}`);

  const heartbeat = setInterval(() => {
    api.send('POST', `${leasePath}/heartbeat`, { json: { leaseSeconds: ctx.leaseSeconds }, headers }).then(
      (r) => {
        if ((r.body as { state?: string } | undefined)?.state === 'cancel-requested') abort.abort('cancelled');
      },
      (err: unknown) => {
        if (err instanceof RunnerHttpError && err.status === 409) abort.abort('lease-lost');
      },
    );
  }, Math.max(500, Math.min(2000, Math.floor((ctx.leaseSeconds * 1000) / 3))));

  const workspace = join(ctx.workDir, 'workspaces', run.id);
  const home = join(ctx.workDir, 'homes', run.id);
  const recorder = remoteRecorder(api, leasePath, headers, workspace, abort.signal);
  const source = assignment.checkout.kind === 'hosted' ? new URL(`/git/${assignment.checkout.repository}.git`, ctx.server).href : assignment.checkout.url;
  const password = assignment.checkout.kind === 'hosted' ? ctx.token : assignment.checkout.password;
  const sourceEnv: Record<string, string> = password === undefined ? {} : { GIT_ASKPASS: ctx.askpass, GIT_TERMINAL_PROMPT: '0', PLINTH_GIT_USERNAME: (assignment.checkout.kind === 'url' ? assignment.checkout.username : undefined) ?? 'runner', PLINTH_GIT_PASSWORD: password };
  let outcome: RunnerOutcome = 'completed';
  try {
    await runPipeline({
      run, resumed: assignment.resumed, recorder, sandbox: ctx.sandbox, limits: ctx.limits, available: ctx.available,
      secrets: assignment.secrets, signal: abort.signal, parallelism: ctx.parallelism ?? 2, dataDir: ctx.workDir,
      source, sourceEnv, maskValues: [...assignment.maskValues, ctx.token], workspace, home,
      caches: { root: join(ctx.workDir, 'caches'), maxBytes: ctx.cacheMaxBytes ?? 2 * 1024 ** 3 },
      now: () => new Date().toISOString(),
      // Each write is a request to the server: batch as before (one per 50 ms at most while lines keep coming).
      logFlushMs: 50,
    });
    if (abort.signal.aborted) outcome = abort.signal.reason === 'cancelled' ? 'cancelled' : 'interrupted';
  } catch (err) {
    // The server refused a write (lost lease) or could not be reached: hand the run back if we still can.
    ctx.say(`run ${run.id}: ${(err as Error).message}`);
    outcome = 'interrupted';
  } finally {
    clearInterval(heartbeat);
    ctx.signal.removeEventListener('abort', onStop);
  }
  if (abort.signal.reason === 'lease-lost') {
    ctx.say(`run ${run.id}: the lease was lost (another runner takes the run over); dropped`);
  } else {
    try {
      const finished = (await api.send('POST', `${leasePath}/finish`, { json: { outcome }, headers })).body as Run;
      ctx.say(`run ${run.id}: ${outcome === 'interrupted' ? 'handed back to the queue' : finished.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      ctx.say(`run ${run.id}: could not report the end (${(err as Error).message}); the lease will expire and the run will be retried`);
    }
  }
  await rm(workspace, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
}

/**
 * Reports to the server under the lease. The workspace is sent (as .tar.gz) before the first platform
 * step after any shell step changed it, once per such change, however many platform steps then run.
 */
function remoteRecorder(api: Api, leasePath: string, headers: Record<string, string>, workspace: string, signal: AbortSignal): RunRecorder {
  let generation = 0;
  let uploaded: { generation: number; done: Promise<void> } | undefined;
  /** Sends the workspace as it is now, unless that generation is already there; resolves with the generation sent. */
  const upload = (): Promise<number> => {
    if (uploaded?.generation === generation) return uploaded.done.then(() => uploaded!.generation);
    const g = generation;
    // Off the runner's event loop, which streams the run's log lines meanwhile.
    const tar = spawnOffThread('tar', ['-czf', '-', '-C', workspace, '.']);
    tar.stderr.resume();
    const done = api.send('PUT', `${leasePath}/workspace/${g}`, { body: tar.stdout, headers: { ...headers, 'content-type': 'application/gzip' } }).then(() => undefined);
    uploaded = { generation: g, done };
    done.catch(() => (uploaded = undefined));
    return done.then(() => g);
  };
  return {
    async appendLogs(lines: readonly LogEntry[]) {
      for (let i = 0; i < lines.length; i += 1000) await api.send('POST', `${leasePath}/logs`, { json: { lines: lines.slice(i, i + 1000) }, headers });
    },
    async replaceSteps(steps) {
      await api.send('PUT', `${leasePath}/steps`, { json: { steps }, headers });
    },
    async updateStep(step, finished) {
      if (finished && step.kind === 'shell') generation++;
      await api.send('PUT', `${leasePath}/steps/${encodeURIComponent(step.name)}`, { json: { step, finished }, headers });
    },
    async replaceTestResults(step, tests) {
      await api.send('PUT', `${leasePath}/tests/${encodeURIComponent(step)}`, { json: { tests }, headers });
    },
    async runPlatformStep(uses, ctx) {
      if (signal.aborted) return { status: 'failed', message: 'the run was interrupted' };
      const sent = await upload();
      const answer = await api.send('POST', `${leasePath}/platform-steps/${encodeURIComponent(ctx.step)}`, { json: { uses, generation: sent, inputs: ctx.inputs, env: ctx.env }, headers });
      const result = answer.body as PlatformStepResult | { status: 'not-installed' };
      return result.status === 'not-installed' ? 'not-installed' : (result as PlatformStepResult);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
