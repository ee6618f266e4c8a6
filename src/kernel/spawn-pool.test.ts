import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { spawnOffThread, type OffThreadChild } from './spawn-pool.js';

// Real processes started from the pool's worker threads: output, exit codes, stdin, signals.

function collect(child: OffThreadChild): Promise<{ stdout: Buffer; stderr: string; code: number | null; signal: string | null; errors: string[] }> {
  const out: Buffer[] = [];
  let stderr = '';
  const errors: string[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
  return new Promise((resolve) => child.on('close', (code: number | null, signal: string | null) => resolve({ stdout: Buffer.concat(out), stderr, code, signal, errors })));
}

describe('child processes off the event loop', () => {
  it('runs a process with its env and cwd, and hands back stdout, stderr and the exit code', async () => {
    const child = spawnOffThread('/bin/sh', ['-c', 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 3'], { cwd: '/tmp', env: { GREETING: 'hello', PATH: '/usr/bin:/bin' } });
    const result = await collect(child);
    expect(result).toMatchObject({ code: 3, errors: [] });
    expect(result.stdout.toString()).toBe('hello from /tmp\n');
    expect(result.stderr).toBe('oops\n');
    expect(child.pid).toBeGreaterThan(0);
  });

  it('writes `input` to stdin and closes it', async () => {
    const result = await collect(spawnOffThread('cat', [], { input: 'line one\nline two\n' }));
    expect(result.stdout.toString()).toBe('line one\nline two\n');
  });

  it('streams stdin and stdout through a pipe byte for byte, with more data than any buffer holds', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const child = spawnOffThread('cat', [], { stdin: 'pipe' });
    const done = collect(child);
    child.stdin!.end(data);
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout.equals(data)).toBe(true);
  });

  it('reports a program that does not exist as an ENOENT error, then closes', async () => {
    const result = await collect(spawnOffThread('/nonexistent/plinth-no-such-program', []));
    expect(result.errors).toEqual(['ENOENT']);
  });

  it('kills a detached process group, children included', async () => {
    const child = spawnOffThread('/bin/sh', ['-c', 'sleep 30 & sleep 30; echo never'], { detached: true });
    const done = collect(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    const started = Date.now();
    child.killGroup('SIGKILL');
    const result = await done;
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout.toString()).toBe('');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops the process when its AbortSignal fires, with an AbortError', async () => {
    const abort = new AbortController();
    const child = spawnOffThread('sleep', ['30'], { signal: abort.signal });
    const done = collect(child);
    setTimeout(() => abort.abort(), 50);
    const result = await done;
    expect(result.errors).toEqual(['ABORT_ERR']);
    expect(result.signal).toBe('SIGTERM');
  });

  it('runs many processes at once, each with its own output', async () => {
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => collect(spawnOffThread('/bin/sh', ['-c', `echo ${i}`]))));
    expect(results.map((r) => r.stdout.toString().trim())).toEqual(Array.from({ length: 24 }, (_, i) => String(i)));
  });
});
