import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChild } from './log.js';

/** A pino logger with wildcard redaction (as createLogger's) writing JSON lines into `lines`. */
function memoryLogger(lines: Record<string, unknown>[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const { time: _time, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(line) as Record<string, unknown>;
        lines.push(rest);
      }
      done();
    },
  });
  return pino({ level: 'info', redact: { paths: ['token', '*.token', 'password', '*.password'], censor: '[redacted]' } }, stream).child({ layer: 'http' });
}

describe('lazyChild', () => {
  it('logs exactly what parent.child(bindings) logs, redaction, grandchildren and levels included', async () => {
    const eager: Record<string, unknown>[] = [];
    const lazy: Record<string, unknown>[] = [];
    const run = (parent: ReturnType<typeof memoryLogger>, make: (bindings: Record<string, unknown>) => ReturnType<typeof memoryLogger>) => {
      const a = make({ reqId: 'r-1', token: 'secret-token' });
      a.info({ user: { password: 'p' } }, 'one');
      a.child({ step: 2 }).warn('grandchild');
      const b = make({ reqId: 'r-2' });
      b.level = 'warn';
      b.info('hidden');
      b.error('shown');
      parent.info('parent keeps its level');
      return [a.bindings(), b.bindings()];
    };
    const eagerParent = memoryLogger(eager);
    const lazyParent = memoryLogger(lazy);
    const eagerBindings = run(eagerParent, (bindings) => eagerParent.child(bindings));
    const lazyBindings = run(lazyParent, (bindings) => lazyChild(lazyParent, bindings));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lazyBindings).toEqual(eagerBindings);
    expect(lazy).toEqual(eager);
    expect(lazy).toHaveLength(4);
    expect(lazy[0]).toMatchObject({ layer: 'http', reqId: 'r-1', token: '[redacted]', user: { password: '[redacted]' }, msg: 'one' });
    expect(lazy[1]).toMatchObject({ reqId: 'r-1', step: 2, msg: 'grandchild' });
  });
});
