import { pino, type Bindings, type Logger } from 'pino';

export type { Logger };

/** Paths redacted from every log line, so secrets never reach a log. */
const redactPaths = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
];

export function createLogger(options: { level: string; pretty: boolean }): Logger {
  return pino({
    level: options.level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}

const { chindingsSym } = pino.symbols;
const bindingsKey = Symbol('plinth.lazyChild.bindings');
type LazyChild = { [bindingsKey]: Bindings; [chindingsSym]?: string };
/** Per parent logger: the prototype of its lazy children (a pino child, with the lazy bindings accessor). */
const lazyPrototypes = new WeakMap<object, object>();

/**
 * `parent.child(bindings)` of a pino logger, with the bindings serialized at the first log line instead of now.
 * Fastify makes a child logger per request, and serializing `{ reqId }` runs the redaction over
 * it (about a microsecond); most requests (probes, scrapes) never log. Children are made as pino
 * makes them (`Object.create` of the parent); the serialized bindings sit behind pino's exported
 * `symbols.chindingsSym` and are exactly those `parent.child(bindings)` would hold, redaction included.
 */
export function lazyChild<L extends { child(bindings: Bindings): object }>(parent: L, bindings: Bindings): L {
  let proto = lazyPrototypes.get(parent);
  if (!proto) {
    // A real child of the parent, so formatters are set up as for any child.
    const base = parent.child({}) as L;
    proto = Object.create(base) as object;
    Object.defineProperty(proto, chindingsSym, {
      configurable: true,
      get(this: LazyChild) {
        const chindings = (base.child(this[bindingsKey]) as unknown as LazyChild)[chindingsSym]!;
        Object.defineProperty(this, chindingsSym, { value: chindings, writable: true, configurable: true });
        return chindings;
      },
      // pino writes the bindings of a child of this child, or of `setBindings`, on the instance.
      set(this: LazyChild, value: string) {
        Object.defineProperty(this, chindingsSym, { value, writable: true, configurable: true });
      },
    });
    lazyPrototypes.set(parent, proto);
  }
  const child = Object.create(proto) as LazyChild;
  child[bindingsKey] = bindings;
  return child as unknown as L;
}
