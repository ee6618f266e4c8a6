/**
 * `npm run bench:scaffolder`: the node-service golden path's figures, one JSON line on stdout (progress on stderr).
 *
 * - Submit → done: POST /api/scaffolder/v2/tasks until the task completed (skeleton rendered, repository
 *   created and pushed over smart HTTP, Component registered), N runs one after another: p50/p95
 *   (target < 3 s, issue #4). Baseline in the same invocation: the floor of the same work without the
 *   scaffolder, i.e. REST-create a repository and `git push` the same rendered files over smart HTTP.
 * - 20 tasks submitted at once: wall time until all completed, and a cross-talk check: every repository
 *   holds its own name (package.json, catalog-info.yaml, score.yaml) and no other task's.
 *
 * Each push starts the standard pipeline (npm install, build, tests); the bench cancels those runs
 * through the pipelines service so that the figures are the scaffolder's, not npm's.
 *
 *   node dist/bench/scaffolder/index.js [--runs 10] [--concurrent 20]
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/kernel/index.js';
import { ADMIN_PASSWORD, benchConfig, cleanupAll, onCleanup, progress, round, tempDir, wallMs } from '../kernel/util.js';

const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '10' }, concurrent: { type: 'string', default: '20' } }, strict: true });
const runs = Number(flags.runs);
const concurrent = Number(flags.concurrent);
if (!(runs >= 1) || !(concurrent >= 1)) throw new Error('--runs and --concurrent must be ≥ 1');

/** Nearest-rank p50/p95/max in milliseconds. */
function summarize(values: readonly number[]): { p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { p50: at(50), p95: at(95), max: sorted[sorted.length - 1]! };
}

const say = (message: string) => progress(`[bench:scaffolder] ${message}`);
const SYSTEM = { kind: 'system', name: 'bench' } as const;

interface Server {
  app: App;
  url: string;
  token: string;
  json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
}

async function startServer(): Promise<Server> {
  const dataDir = tempDir('scaffolder');
  const base = benchConfig({ dataDir }, true);
  const config = { ...base, builtinTemplates: true, jobs: { ...base.jobs, concurrency: Math.max(8, concurrent) } };
  const app = await buildApp(config, { logger: createLogger({ level: 'silent', pretty: false }) });
  onCleanup(() => app.stop());
  await app.start();
  const url = (await app.listen()).replace('localhost', '127.0.0.1');
  await app.templatesReady();
  const login = await app.server.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
  const cookie = login.cookies.find((c) => c.name === 'plinth_session')!;
  const created = await app.server.inject({
    method: 'POST',
    url: '/api/auth/tokens',
    headers: { cookie: `plinth_session=${cookie.value}`, 'x-csrf-token': login.json<{ csrfToken: string }>().csrfToken },
    payload: { name: 'bench' },
  });
  const token = created.json<{ secret: string }>().secret;
  const json = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return { app, url, token, json };
}

/** Cancels the pipeline runs that the pushes started (they would otherwise compete for the CPU). */
async function cancelPipelines(app: App): Promise<void> {
  for (const status of ['queued', 'running'] as const) {
    const { items } = await app.pipelines.listRuns(SYSTEM, { status, limit: 500 });
    await Promise.all(items.map((run) => app.pipelines.cancel(SYSTEM, run.id).catch(() => undefined)));
  }
}

interface TaskState {
  status: string;
  error: string | null;
  steps: { id: string; startedAt?: string; endedAt?: string }[];
}

async function waitTask(server: Server, id: string): Promise<TaskState> {
  for (;;) {
    const task = await server.json<TaskState>('GET', `/api/scaffolder/v2/tasks/${id}`);
    if (['completed', 'failed', 'cancelled'].includes(task.status)) return task;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Per step of the sequential runs: how long it ran (the rest of submit → done is queueing and polling). */
const stepMs = new Map<string, number[]>();

async function createService(server: Server, name: string): Promise<number> {
  const t0 = wallMs();
  const { id } = await server.json<{ id: string }>('POST', '/api/scaffolder/v2/tasks', { templateRef: 'template:default/node-service', values: { name, owner: 'user:default/admin', database: true } });
  const task = await waitTask(server, id);
  const ms = wallMs() - t0;
  if (task.status !== 'completed') throw new Error(`task for ${name} ${task.status}: ${task.error}`);
  for (const step of task.steps) {
    if (step.startedAt === undefined || step.endedAt === undefined) continue;
    stepMs.set(step.id, [...(stepMs.get(step.id) ?? []), Date.parse(step.endedAt) - Date.parse(step.startedAt)]);
  }
  return ms;
}

function git(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x.invalid', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x.invalid' };
    const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git ${args[0]}: ${stderr}`))));
  });
}

/** The floor: the same files, rendered once by a dry run, pushed to a REST-created repository by plain git. */
async function pushDirectly(server: Server, files: { path: string; base64Content: string }[], name: string): Promise<number> {
  const dir = join(tempDir('push'), name);
  for (const file of files) {
    await mkdir(dirname(join(dir, file.path)), { recursive: true });
    await writeFile(join(dir, file.path), Buffer.from(file.base64Content, 'base64'));
  }
  const t0 = wallMs();
  await server.json('POST', '/api/git/repos', { owner: 'admin', name });
  const remote = new URL(`${server.url}/git/admin/${name}.git`);
  remote.username = 'x';
  remote.password = server.token;
  await git(['init', '--quiet', '-b', 'main'], dir);
  await git(['add', '--all'], dir);
  await git(['commit', '--quiet', '-m', 'Initial commit'], dir);
  await git(['push', '--quiet', remote.toString(), 'HEAD:refs/heads/main'], dir);
  return wallMs() - t0;
}

/** Every repository holds its own name in the files the template renders it into, and no other task's. */
async function crossTalk(app: App, names: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const name of names) {
    for (const path of ['package.json', 'catalog-info.yaml', 'score.yaml']) {
      const text = (await app.git.readFile(SYSTEM, { owner: 'admin', name, ref: 'main', path })).content.toString('utf8');
      if (!text.includes(name)) problems.push(`${name}/${path} does not name ${name}`);
      const others = names.filter((other) => other !== name && new RegExp(`\\b${other}\\b`).test(text));
      if (others.length > 0) problems.push(`${name}/${path} names ${others.join(', ')}`);
    }
    const entity = await app.catalog.getEntityByRef(SYSTEM, `component:default/${name}`);
    if (!entity) problems.push(`component:default/${name} is not in the catalog`);
  }
  return problems;
}

async function main() {
  const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg1mAtStart: round(loadavg()[0] ?? 0) };
  const server = await startServer();
  say('warm-up task');
  await createService(server, 'warmup-svc');
  await cancelPipelines(server.app);

  const dry = await server.json<{ directoryContents: { path: string; base64Content: string }[] }>('POST', '/api/scaffolder/v2/dry-run', { templateRef: 'template:default/node-service', values: { name: 'floor-svc', owner: 'user:default/admin', database: true } });
  stepMs.clear();
  const taskMs: number[] = [];
  const floorMs: number[] = [];
  for (let i = 1; i <= runs; i++) {
    say(`sequential run ${i}/${runs}`);
    taskMs.push(await createService(server, `seq-svc-${i}`));
    await cancelPipelines(server.app);
    floorMs.push(await pushDirectly(server, dry.directoryContents, `floor-svc-${i}`));
    await cancelPipelines(server.app);
  }

  const sequentialSteps = Object.fromEntries([...stepMs].map(([id, values]) => [id, round(summarize(values).p50)]));
  say(`${concurrent} tasks at once`);
  const names = Array.from({ length: concurrent }, (_, i) => `par-svc-${i + 1}`);
  const t0 = wallMs();
  const each = await Promise.all(names.map((name) => createService(server, name)));
  const wallAllMs = wallMs() - t0;
  await cancelPipelines(server.app);
  const problems = await crossTalk(server.app, names);

  const task = summarize(taskMs);
  const floor = summarize(floorMs);
  const figures = {
    bench: 'scaffolder',
    machine,
    template: 'node-service (database: true)',
    sequential: { runs, submitToDoneMs: { p50: round(task.p50), p95: round(task.p95), max: round(task.max) }, targetMs: 3000, meetsTarget: task.p95 < 3000, stepP50Ms: sequentialSteps },
    baseline: { what: 'REST create + git push of the same rendered files over smart HTTP', ms: { p50: round(floor.p50), p95: round(floor.p95) } },
    ratios: { taskOverFloorP50: round(task.p50 / floor.p50) },
    concurrent: { tasks: concurrent, allCompleted: each.length === concurrent, wallMs: round(wallAllMs), perTaskMs: { p50: round(summarize(each).p50), p95: round(summarize(each).p95) }, crossTalkProblems: problems },
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  if (problems.length > 0) process.exitCode = 1;
}

try {
  await main();
} finally {
  await cleanupAll();
}
