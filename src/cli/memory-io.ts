import { PassThrough } from 'node:stream';
import type { CliIo } from './context.js';

/** The CLI's io in memory, for tests that run it in-process: what it printed, and a Ctrl-C the test controls. */
export function memoryIo(env: Record<string, string | undefined>, stdinText = ''): CliIo & { stdoutText(): string; stderrText(): string; interrupt(): void } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const stdin = new PassThrough();
  stdin.end(stdinText);
  const controller = new AbortController();
  return {
    stdout,
    stderr,
    stdin,
    env,
    homeDir: '/nonexistent-home',
    hostname: 'test-host',
    interruptSignal: () => controller.signal,
    interrupt: () => controller.abort(),
    stdoutText: () => out,
    stderrText: () => err,
  };
}

