import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Probe } from '../model/index.js';

/** What one probe found: ok, or why not (shown in release failures). */
export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** HTTP GET on the replica; 2xx is success (Kubernetes counts 3xx too; we are stricter, 3xx is often a login redirect). */
export function probeHttp(port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 300 ? { ok: true } : { ok: false, reason: `GET ${path} → ${status}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, reason: `GET ${path}: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
    req.end();
  });
}

/** Without a readiness probe a replica is ready once its port accepts connections. */
export function probeTcp(port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, reason: `port ${port}: no connection within ${timeoutMs} ms` });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, reason: `port ${port}: ${err.code ?? err.message}` }));
  });
}

/**
 * Runs the probe command in the replica's directory and environment, under `wrapper` (the replica's
 * sandbox) when given; exit 0 is success.
 */
export function probeExec(command: readonly string[], cwd: string, env: Record<string, string>, timeoutMs: number, wrapper: readonly string[] = []): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const [file, ...args] = [...wrapper, ...command];
    const child = spawn(file!, args, { cwd, env, stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
      resolve({ ok: false, reason: `${command[0]} did not finish within ${timeoutMs} ms` });
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `${command[0]}: ${err.message}` });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, reason: `${command.join(' ')} exited with ${code}` });
    });
  });
}

export function runProbe(probe: Probe | undefined, ctx: { port: number; cwd: string; env: Record<string, string>; wrapper?: readonly string[] }): Promise<ProbeResult> {
  if (!probe) return probeTcp(ctx.port, 1000);
  if (probe.http) return probeHttp(probe.http.port ?? ctx.port, probe.http.path, probe.timeoutMs);
  return probeExec(probe.exec!.command, ctx.cwd, ctx.env, probe.timeoutMs, ctx.wrapper);
}
