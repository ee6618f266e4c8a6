import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { quantityToBytes, type WorkloadSpec } from '../model/index.js';
import { resolveCommand, unpackArtifact, verifyDigest, type ArtifactVerifier } from './artifact.js';
import { createReplicaLog, matchesLogQuery, searchLogFiles, type LogLine, type LogQuery, type ReplicaLog } from './logs.js';
import { allocatePort } from './ports.js';
import { startReplica, type Replica, type ReplicaStatus, type RestartPolicy } from './replica.js';
import { findSandboxTools, probeWrapper, resolveVolume, sandboxArgs, sandboxedArgv, writeMountFiles, type SandboxTools } from './sandbox.js';

/** One ready replica the gateway may send a request to. */
export interface Endpoint {
  releaseId: string;
  replica: number;
  host: string;
  port: number;
}

/** Why a release could not start; the message says what to fix. */
export class ReleaseStartError extends Error {
  override readonly name = 'ReleaseStartError';
}

/**
 * What a runtime driver does for the runtime service and (later) the rollout controller: start a
 * version's replicas beside those already running, expose the ready endpoints, stop a version with a
 * graceful drain. The Kubernetes driver implements the same interface.
 */
export interface RuntimeDriver {
  /** Resolves once every replica is ready; otherwise stops what it started and rejects with ReleaseStartError. */
  /** `secrets`: the secret env variables by name; `maskValues`: every secret value to mask in logs (also those inside a template). */
  start(release: { id: string; spec: WorkloadSpec }, secrets: Readonly<Record<string, string>>, maskValues?: readonly string[]): Promise<void>;
  /** Out of rotation first, then SIGTERM, the spec's grace period, SIGKILL. */
  stop(releaseId: string, options?: { graceMs?: number }): Promise<void>;
  readyEndpoints(releaseId: string): readonly Endpoint[];
  /** The gateway could not connect: out of rotation until its next passing probe. */
  markUnreachable(endpoint: Endpoint): void;
  replicas(releaseId: string): ReplicaStatus[];
  isRunning(releaseId: string): boolean;
  logs(service: string, environment: string, query: LogQuery): Promise<LogLine[]>;
  /** Calls `listener` for each new matching line until the returned function is called. */
  followLogs(service: string, environment: string, query: LogQuery, listener: (line: LogLine) => void): () => void;
  stopAll(): Promise<void>;
  /** Routes a service's traffic where the driver's own router needs it (a cluster's HTTPRoute); the built-in gateway is set by the runtime. */
  applyTraffic?(service: string, environment: string, backends: { spec: WorkloadSpec; weight: number }[]): Promise<void>;
}

export interface LocalDriverOptions {
  /** Per-replica log files and unpacked artifacts live under here. */
  dataDir: string;
  verifyArtifact?: ArtifactVerifier;
  /** Variables every replica starts with (PATH, HOME); the spec's env and secrets are added. */
  baseEnv?: Record<string, string>;
  restart?: Partial<RestartPolicy>;
  tailLines?: number;
  /** Path of prlimit(1), or undefined to run without resource limits. */
  prlimit?: string;
  /**
   * The only place volume sources may be (absolute); a spec's volume must name a directory inside it.
   * Absent: the runtime accepts no volumes.
   */
  volumeRoot?: string;
  /** Path of bwrap(1) for releases with files or volumes; looked up in `baseEnv.PATH` when absent. */
  bwrap?: string;
  /** Called for every spawned process, so a restarted server can clean up after a crash. */
  onSpawn?: (releaseId: string, replica: number, pid: number, port: number) => void;
  onReplicaChange?: (releaseId: string, status: ReplicaStatus) => void;
}

interface LocalRelease {
  id: string;
  spec: WorkloadSpec;
  replicas: Replica[];
  logs: ReplicaLog[];
  ready: Endpoint[];
  stopping: boolean;
}

/** How a release with files or volumes runs: bwrap with these options (see sandbox.ts). */
interface Sandbox {
  tools: SandboxTools;
  args: string[];
}

const defaultRestart: RestartPolicy = { initialBackoffMs: 200, maxBackoffMs: 30_000, crashLoopAfter: 5, stableAfterMs: 10_000 };

/** The embedded runtime: each replica is a supervised child process in its own process group. */
export function createLocalDriver(options: LocalDriverOptions): RuntimeDriver {
  if (options.volumeRoot !== undefined && !isAbsolute(options.volumeRoot)) throw new Error(`volumeRoot must be an absolute path, not "${options.volumeRoot}"`);
  const releases = new Map<string, LocalRelease>();
  const followers = new Set<{ service: string; environment: string; query: LogQuery; listener: (line: LogLine) => void }>();
  const restart = { ...defaultRestart, ...options.restart };
  const baseEnv = options.baseEnv ?? { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` };
  const logDir = (spec: WorkloadSpec, releaseId: string) => join(options.dataDir, 'logs', spec.environment, spec.service, releaseId);
  // Per release: `artifact/` (an unpacked tarball, the cwd) and `mounts/` (file contents), both removed on stop.
  const releaseDir = (releaseId: string) => join(options.dataDir, 'releases', releaseId);
  let tools: Promise<SandboxTools> | undefined;

  const refreshEndpoints = (release: LocalRelease) => {
    release.ready = release.stopping ? [] : release.replicas.filter((r) => r.isReady()).map((r) => ({ releaseId: release.id, replica: r.ordinal, host: '127.0.0.1', port: r.port }));
  };

  function argvFor(spec: WorkloadSpec, executable: string, sandbox: Sandbox | undefined): string[] {
    const command = [executable, ...spec.command.slice(1), ...spec.args];
    // prlimit outermost: bwrap and the workload inherit its limits.
    const argv = sandbox === undefined ? command : sandboxedArgv(sandbox.tools, sandbox.args, command);
    // RLIMIT_DATA, not RLIMIT_AS: V8 reserves far more address space than it uses, so an address-space
    // limit below ~2 GiB stops Node at start; the data limit caps what is actually allocated. CPU
    // limits are rates (500m) that rlimits cannot express: they are recorded in the manifest only.
    if (options.prlimit === undefined || spec.limits.memory === undefined) return argv;
    return [options.prlimit, `--data=${quantityToBytes(spec.limits.memory)}`, '--', ...argv];
  }

  /** The sandbox of a release with files or volumes (file contents written under its release dir); undefined for others. */
  async function prepareSandbox(id: string, spec: WorkloadSpec, cwd: string): Promise<Sandbox | undefined> {
    if (spec.files.length === 0 && spec.volumes.length === 0) return undefined;
    const volumes = await Promise.all(spec.volumes.map((v) => resolveVolume(v, options.volumeRoot)));
    const found = await (tools ??= findSandboxTools(baseEnv.PATH ?? '', options.bwrap).catch((err: unknown) => {
      tools = undefined; // installing bwrap later needs no restart
      throw err;
    }));
    const files = await writeMountFiles(spec.files, join(releaseDir(id), 'mounts'));
    return { tools: found, args: sandboxArgs({ mounts: [...files, ...volumes], cwd }) };
  }

  /** Unpacks the artifact, finds the command, prepares the sandbox; on failure removes what it wrote. */
  async function prepareRun(id: string, spec: WorkloadSpec, path: string): Promise<{ cwd: string; argv: string[]; sandbox: Sandbox | undefined }> {
    try {
      const cwd = await unpackArtifact(spec.artifact, join(releaseDir(id), 'artifact'));
      const executable = await resolveCommand(spec.command[0]!, cwd, path);
      if (executable === undefined) throw new Error(`command not found: "${spec.command[0]}" (looked in ${spec.command[0]!.includes('/') ? cwd : `PATH=${path}`})`);
      const sandbox = await prepareSandbox(id, spec, cwd);
      return { cwd, argv: argvFor(spec, executable, sandbox), sandbox };
    } catch (err) {
      await rm(releaseDir(id), { recursive: true, force: true });
      throw new ReleaseStartError((err as Error).message, { cause: err });
    }
  }

  async function start(input: { id: string; spec: WorkloadSpec }, secrets: Readonly<Record<string, string>>, maskValues: readonly string[] = []): Promise<void> {
    const { id, spec } = input;
    if (releases.has(id)) return; // idempotent: the release is running already
    const verify = options.verifyArtifact ?? verifyDigest;
    try {
      await verify(spec.artifact);
    } catch (err) {
      throw new ReleaseStartError((err as Error).message, { cause: err });
    }
    const env: Record<string, string> = { ...baseEnv, ...spec.env, ...secrets };
    const { cwd, argv, sandbox } = await prepareRun(id, spec, env.PATH ?? '');
    const release: LocalRelease = { id, spec, replicas: [], logs: [], ready: [], stopping: false };
    releases.set(id, release);
    try {
      for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
        const port = await allocatePort();
        const log = createReplicaLog({
          file: join(logDir(spec, id), `replica-${ordinal}.log`),
          tailLines: options.tailLines ?? 1000,
          base: { service: spec.service, environment: spec.environment, releaseId: id, replica: ordinal },
          secrets: [...Object.values(secrets), ...maskValues],
          onLine: (line) => {
            for (const f of followers) if (f.service === spec.service && f.environment === spec.environment && matchesLogQuery(line, f.query)) f.listener(line);
          },
        });
        release.logs.push(log);
        const replicaEnv = {
          ...env,
          PORT: String(port),
          PLINTH_SERVICE: spec.service,
          PLINTH_ENVIRONMENT: spec.environment,
          PLINTH_VERSION: spec.version,
          PLINTH_RELEASE_ID: id,
          PLINTH_REPLICA: String(ordinal),
        };
        release.replicas.push(
          startReplica({
            ordinal, port, argv, cwd, env: replicaEnv, readiness: spec.readiness, liveness: spec.liveness, log, restart,
            probeWrapper: sandbox && probeWrapper(sandbox.tools, sandbox.args),
            onChange: (replica) => {
              refreshEndpoints(release);
              options.onReplicaChange?.(id, replica.status());
            },
            onSpawn: (replica, pid) => options.onSpawn?.(id, replica.ordinal, pid, replica.port),
          }),
        );
      }
      const deadlineMs = spec.readiness?.deadlineMs ?? 30_000;
      await Promise.all(release.replicas.map((r) => r.waitReady(deadlineMs)));
    } catch (err) {
      await stop(id, { graceMs: 1000 });
      throw new ReleaseStartError(`release ${spec.service}@${spec.version} in ${spec.environment} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async function stop(releaseId: string, opts: { graceMs?: number } = {}): Promise<void> {
    const release = releases.get(releaseId);
    if (!release) return;
    release.stopping = true;
    refreshEndpoints(release); // out of rotation before any signal
    await Promise.all(release.replicas.map((r) => r.stop(opts.graceMs ?? release.spec.terminationGraceMs)));
    await Promise.all(release.logs.map((l) => l.close()));
    releases.delete(releaseId);
    await rm(releaseDir(releaseId), { recursive: true, force: true });
  }

  return {
    start,
    stop,
    readyEndpoints: (releaseId) => releases.get(releaseId)?.ready ?? [],
    markUnreachable(endpoint) {
      releases.get(endpoint.releaseId)?.replicas[endpoint.replica]?.markUnreachable();
    },
    replicas: (releaseId) => releases.get(releaseId)?.replicas.map((r) => r.status()) ?? [],
    isRunning: (releaseId) => releases.has(releaseId),
    async logs(service, environment, query) {
      const dir = join(options.dataDir, 'logs', environment, service);
      if (!existsSync(dir)) return [];
      const { readdir } = await import('node:fs/promises');
      const files: string[] = [];
      for (const release of await readdir(dir)) for (const f of await readdir(join(dir, release))) files.push(join(dir, release, f));
      return searchLogFiles(files, query);
    },
    followLogs(service, environment, query, listener) {
      const follower = { service, environment, query, listener };
      followers.add(follower);
      return () => followers.delete(follower);
    },
    async stopAll() {
      await Promise.all([...releases.keys()].map((id) => stop(id)));
    },
  };
}
