import { spawn, type ChildProcess } from 'node:child_process';
import type { Probe } from '../model/index.js';
import { runProbe, type ProbeResult } from './probes.js';
import type { ReplicaLog } from './logs.js';

/**
 * - starting: spawned, readiness not yet passed
 * - ready: in rotation
 * - unready: running but failing readiness (or just refused a connection); out of rotation
 * - backoff: exited unexpectedly, restart scheduled
 * - crash-loop: exited repeatedly; restarts continue at the capped delay
 * - stopping / stopped: draining on request / gone for good
 */
export type ReplicaPhase = 'starting' | 'ready' | 'unready' | 'backoff' | 'crash-loop' | 'stopping' | 'stopped';

export interface ReplicaStatus {
  ordinal: number;
  port: number;
  pid: number | undefined;
  phase: ReplicaPhase;
  restarts: number;
  lastExit: string | undefined;
  lastProbe: string | undefined;
}

export interface RestartPolicy {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Consecutive crashes after which the replica is reported as crash-looping. */
  crashLoopAfter: number;
  /** Ready this long → the crash count resets. */
  stableAfterMs: number;
}

export interface Replica {
  readonly ordinal: number;
  readonly port: number;
  status(): ReplicaStatus;
  isReady(): boolean;
  /** Resolves when first ready; rejects with the reason when the process exits first or the deadline passes. */
  waitReady(deadlineMs: number): Promise<void>;
  /** A connection was refused: out of rotation until the next passing probe. */
  markUnreachable(): void;
  /** SIGTERM to the process group, SIGKILL after the grace period; resolves when the process is gone. */
  stop(graceMs: number): Promise<void>;
}

export interface ReplicaInput {
  ordinal: number;
  port: number;
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  readiness: Probe | undefined;
  liveness: Probe | undefined;
  /** argv prefix exec probes run under, so they see what the replica sees (its sandbox); none when absent. */
  probeWrapper?: readonly string[];
  log: ReplicaLog;
  restart: RestartPolicy;
  onChange: (replica: Replica) => void;
  onSpawn: (replica: Replica, pid: number) => void;
}

const signalGroup = (pid: number | undefined, signal: NodeJS.Signals) => {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
};

export function startReplica(input: ReplicaInput): Replica {
  let phase: ReplicaPhase = 'starting';
  let child: ChildProcess | undefined;
  let restarts = 0;
  let consecutiveCrashes = 0;
  let readySince: number | undefined;
  let everReady = false;
  let lastExit: string | undefined;
  let lastProbe: string | undefined;
  let timers: NodeJS.Timeout[] = [];
  let generation = 0;
  const readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  let exited: Promise<void> = Promise.resolve();
  const recentStderr: string[] = [];

  const setPhase = (next: ReplicaPhase) => {
    if (phase === next) return;
    phase = next;
    if (next === 'ready') {
      readySince = Date.now();
      everReady = true;
      readyWaiters.splice(0).forEach((w) => w.resolve());
    }
    input.onChange(replica);
  };
  const clearTimers = () => {
    timers.forEach(clearTimeout);
    timers = [];
  };
  const failWaiters = (reason: string) => readyWaiters.splice(0).forEach((w) => w.reject(new Error(reason)));

  const isStopping = () => phase === 'stopping' || phase === 'stopped';
  /** Runs `check` every period while the process of this generation lives, awaiting each run. */
  const loop = (gen: number, probe: Probe | undefined, initialMs: number, check: (r: ProbeResult) => void) => {
    const periodMs = probe?.periodMs ?? 200;
    const tick = async () => {
      if (gen !== generation || isStopping()) return;
      const result = await runProbe(probe, { port: input.port, cwd: input.cwd, env: input.env, wrapper: input.probeWrapper });
      if (gen !== generation || isStopping()) return;
      check(result);
      timers.push(setTimeout(() => void tick(), periodMs));
    };
    timers.push(setTimeout(() => void tick(), initialMs));
  };

  const spawnProcess = () => {
    generation += 1;
    const gen = generation;
    const [file, ...args] = input.argv;
    const proc = spawn(file!, args, { cwd: input.cwd, env: input.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    setPhase('starting');
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => input.log.write('stdout', c));
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => {
      input.log.write('stderr', c);
      recentStderr.push(...c.split('\n').filter((l) => l.trim() !== ''));
      recentStderr.splice(0, Math.max(0, recentStderr.length - 5));
    });
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.once('error', (err) => onExit(gen, `could not start: ${err.message}`));
    proc.once('exit', (code, signal) => onExit(gen, signal ? `killed by ${signal}` : `exited with code ${code}`));
    if (proc.pid !== undefined) input.onSpawn(replica, proc.pid);

    let readinessFailures = 0;
    loop(gen, input.readiness, 50, (r) => {
      lastProbe = r.ok ? 'ok' : r.reason;
      if (r.ok) {
        readinessFailures = 0;
        if (phase === 'starting' || phase === 'unready') setPhase('ready');
        if (readySince !== undefined && Date.now() - readySince >= input.restart.stableAfterMs) consecutiveCrashes = 0;
      } else if (phase === 'ready' && ++readinessFailures >= (input.readiness?.failureThreshold ?? 1)) {
        setPhase('unready');
      }
    });
    if (input.liveness) {
      let livenessFailures = 0;
      const threshold = input.liveness.failureThreshold;
      loop(gen, input.liveness, input.liveness.periodMs, (r) => {
        if (phase !== 'ready' && phase !== 'unready') return; // judged only once it has been up
        livenessFailures = r.ok ? 0 : livenessFailures + 1;
        if (livenessFailures >= threshold) {
          lastExit = `liveness failed ${threshold} times (${r.ok ? '' : r.reason}); killed`;
          // Out of rotation at once; the exit handler restarts it.
          setPhase('unready');
          signalGroup(proc.pid, 'SIGKILL');
        }
      });
    }
  };

  const onExit = (gen: number, how: string) => {
    if (gen !== generation) return;
    generation += 1; // stops this process's probe loops
    clearTimers();
    // Children it forked may still hold the group.
    signalGroup(child?.pid, 'SIGKILL');
    if (isStopping()) {
      setPhase('stopped');
      return;
    }
    lastExit = lastExit?.startsWith('liveness') ? lastExit : how;
    if (!everReady) {
      const tail = recentStderr.join(' | ');
      const inUse = /EADDRINUSE/.test(tail) ? ` (port ${input.port} is in use)` : '';
      failWaiters(`replica ${input.ordinal} ${how} before becoming ready${inUse}${tail ? `: ${tail}` : ''}`);
    }
    consecutiveCrashes += 1;
    restarts += 1;
    const delay = Math.min(input.restart.maxBackoffMs, input.restart.initialBackoffMs * 2 ** (consecutiveCrashes - 1));
    setPhase(consecutiveCrashes >= input.restart.crashLoopAfter ? 'crash-loop' : 'backoff');
    timers.push(
      setTimeout(() => {
        lastExit = how;
        if (phase === 'backoff' || phase === 'crash-loop') spawnProcess();
      }, delay),
    );
  };

  const replica: Replica = {
    ordinal: input.ordinal,
    port: input.port,
    status: () => ({ ordinal: input.ordinal, port: input.port, pid: child?.pid, phase, restarts, lastExit, lastProbe }),
    isReady: () => phase === 'ready',
    waitReady(deadlineMs) {
      if (phase === 'ready') return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = readyWaiters.indexOf(waiter);
          if (i >= 0) readyWaiters.splice(i, 1);
          reject(new Error(`replica ${input.ordinal} not ready within ${deadlineMs} ms (last probe: ${lastProbe ?? 'none yet'})`));
        }, deadlineMs);
        const waiter = {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (err: Error) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        readyWaiters.push(waiter);
      });
    },
    markUnreachable() {
      if (phase === 'ready') setPhase('unready');
    },
    async stop(graceMs) {
      if (phase === 'stopped') return;
      const wasRunning = phase !== 'backoff' && phase !== 'crash-loop';
      setPhase('stopping');
      clearTimers();
      failWaiters(`replica ${input.ordinal} was stopped`);
      if (!wasRunning || child?.exitCode !== null || child.signalCode !== null) {
        setPhase('stopped');
        return;
      }
      signalGroup(child.pid, 'SIGTERM');
      const kill = setTimeout(() => signalGroup(child?.pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(kill);
      setPhase('stopped');
    },
  };
  spawnProcess();
  return replica;
}
