import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { isInside } from '../kernel/index.js';
import { hasPlaceholder, type ParsedFileDocument, type Preprocessed, type UnchangedEntity } from './model/process.js';
import { parseYamlDocuments, parseYamlValue } from './model/yaml.js';

/** Where a location points: a file path or glob, or an http(s) URL. */
export interface LocationSpec {
  type: 'file' | 'url';
  target: string;
}

export interface ReadEntity {
  /** The document as written, with placeholders resolved. */
  raw: Record<string, unknown>;
  /** `file:/abs/path.yaml` or `url:https://…`: the managed-by-location of the entity. */
  locationRef: string;
  /** The folder the entity came from, as a location ref (`url:…/` or `file:/dir/`): its source-location. */
  sourceRef: string;
  /** Position of the document in its file, for error messages. */
  docIndex: number;
  /** Set when the file's parser already processed the document (see `ReadHooks.parseFile`). */
  preprocessed?: Preprocessed;
  /** Set when the file is unchanged since the last refresh and the entity still stored as then (`raw` holds only kind and name). */
  unchanged?: UnchangedEntity;
}

export interface ReadProblem {
  locationRef: string;
  message: string;
}

export interface ReadResult {
  entities: ReadEntity[];
  problems: ReadProblem[];
  /** Locations that could not be read at all: entities they emitted before are kept as they are. */
  unreadable: Set<string>;
  /** Every location ref visited (root, nested Location targets, glob matches). */
  visited: Set<string>;
}

export interface ReaderOptions {
  /** File locations and file placeholders must stay inside one of these folders (realpath); relative targets resolve against the first. */
  fileRoots: readonly string[];
  fetchUrl: (url: string, limits: { maxBytes: number; timeoutMs: number }) => Promise<string>;
  maxFileBytes: number;
  maxDepth: number;
  maxEntities: number;
}

export const defaultReaderLimits = { maxFileBytes: 4 * 1024 * 1024, maxDepth: 16, maxEntities: 500_000 };

/** Reads an http(s) URL with a size and time limit. */
export async function fetchUrlText(url: string, limits: { maxBytes: number; timeoutMs: number }): Promise<string> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`${url}: only http and https URLs can be read`);
  const res = await fetch(url, { signal: AbortSignal.timeout(limits.timeoutMs), redirect: 'follow' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > limits.maxBytes) throw new Error(`${url}: ${length} bytes is over the ${limits.maxBytes}-byte limit`);
  const body = await res.text();
  if (Buffer.byteLength(body) > limits.maxBytes) throw new Error(`${url}: over the ${limits.maxBytes}-byte limit`);
  return body;
}

/** Backstage's generated Location entity name for a registered location. */
export function generatedLocationName(spec: LocationSpec): string {
  // plinth:allow-sast weak-crypto -- Backstage derives these names with SHA-1; not a security use
  return `generated-${createHash('sha1').update(`${spec.type}:${spec.target}`).digest('hex')}`;
}

/**
 * Reads a location and every Location it leads to, collecting entities with placeholders resolved.
 * A bad file or document becomes a problem on its location; everything else is still read. With
 * `hooks.onFile`, each file's entities go to it as the file is read (and are not collected), so a
 * large tree never sits in memory at once.
 */
export interface ReadHooks {
  /** Gets each file's entities as the file is read; they are then not collected in the result. */
  onFile?: (entities: ReadEntity[]) => Promise<void>;
  /**
   * Parses a file (and may process its documents ahead of time, e.g. on a worker thread). Files are
   * read and parsed up to `READ_AHEAD` files ahead of the one being handed to `onFile`.
   */
  parseFile?: (text: string, file: LocationSpec, sourceRef: string) => Promise<ParsedFileDocument[]>;
}

/**
 * Files read and parsed ahead of the one being stored: enough to keep a parser busy while the store
 * commits a batch (ingest.ts WRITE_BATCH, ~5 files of 1,000 entities), few enough to bound memory.
 */
const READ_AHEAD = 8;

export async function readLocationTree(root: LocationSpec, options: ReaderOptions, hooks: ReadHooks = {}): Promise<ReadResult> {
  const { onFile } = hooks;
  const parseFile = hooks.parseFile ?? ((text: string, file: LocationSpec) => Promise.resolve(parseYamlDocuments(text, file.target)));
  const result: ReadResult = { entities: [], problems: [], unreadable: new Set(), visited: new Set() };
  let entityCount = 0;
  let overLimit = false;
  const roots = await Promise.all(options.fileRoots.map((r) => realpath(r).catch(() => resolve(r))));
  const fileRoot = roots[0]!;
  const insideRoot = (path: string) => roots.some((root) => isInside(root, path));
  const allowed = options.fileRoots.join(', ');

  async function readText(spec: LocationSpec): Promise<string> {
    if (spec.type === 'url') return options.fetchUrl(spec.target, { maxBytes: options.maxFileBytes, timeoutMs: 10_000 });
    const real = await realpath(spec.target).catch(() => {
      throw new Error(`${spec.target}: no such file`);
    });
    if (!insideRoot(real)) throw new Error(`${spec.target}: outside the catalog's file roots (${allowed})`);
    const info = await stat(real);
    if (!info.isFile()) throw new Error(`${spec.target}: not a file`);
    if (info.size > options.maxFileBytes) throw new Error(`${spec.target}: ${info.size} bytes is over the ${options.maxFileBytes}-byte limit`);
    return readFile(real, 'utf8');
  }

  const sourceRefOf = (one: LocationSpec) => (one.type === 'url' ? `url:${new URL('./', one.target).toString()}` : `file:${dirname(one.target)}/`);
  type Loaded = { docs: ParsedFileDocument[] } | { error: Error };
  /** Files being read and parsed ahead, by location ref; a load never rejects. */
  const ahead = new Map<string, Promise<Loaded>>();
  const load = (one: LocationSpec): Promise<Loaded> =>
    readText(one).then(
      (text) => parseFile(text, one, sourceRefOf(one)).then((docs) => ({ docs }), (error: Error) => ({ error })),
      (error: Error) => ({ error }),
    );
  function readAhead(specs: readonly LocationSpec[]) {
    for (const one of specs) {
      const ref = `${one.type}:${one.target}`;
      if (!ahead.has(ref) && !result.visited.has(ref) && (one.type === 'url' || !/[*?{[]/.test(one.target))) ahead.set(ref, load(one));
    }
  }
  function take(one: LocationSpec): Promise<Loaded> {
    const ref = `${one.type}:${one.target}`;
    const loaded = ahead.get(ref);
    ahead.delete(ref);
    return loaded ?? load(one);
  }

  /** Resolves a (possibly relative) target against the file or URL that mentions it. */
  function resolveTarget(type: 'file' | 'url', target: string, base: LocationSpec | undefined): LocationSpec {
    if (type === 'url' || /^https?:\/\//.test(target)) {
      return { type: 'url', target: base?.type === 'url' ? new URL(target, base.target).toString() : new URL(target).toString() };
    }
    if (base?.type === 'url') return { type: 'url', target: new URL(target, base.target).toString() };
    const path = isAbsolute(target) ? target : resolve(base ? dirname(base.target) : fileRoot, target);
    return { type: 'file', target: path };
  }

  async function resolvePlaceholders(value: unknown, base: LocationSpec, path: string): Promise<unknown> {
    if (Array.isArray(value)) return Promise.all(value.map((v, i) => resolvePlaceholders(v, base, `${path}[${i}]`)));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1 && ['$text', '$json', '$yaml'].includes(entries[0]![0])) {
      const [kind, target] = entries[0]!;
      if (typeof target !== 'string') throw new Error(`${path}: ${kind} needs a string path or URL`);
      const spec = resolveTarget(base.type, target, base);
      let text: string;
      try {
        text = await readText(spec);
      } catch (err) {
        throw new Error(`${path}: ${kind} ${target}: ${(err as Error).message}`);
      }
      if (kind === '$text') return text;
      if (kind === '$json') {
        try {
          return JSON.parse(text) as unknown;
        } catch (err) {
          throw new Error(`${path}: $json ${target}: invalid JSON: ${(err as Error).message}`);
        }
      }
      return parseYamlValue(text, target);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) out[k] = await resolvePlaceholders(v, base, path ? `${path}.${k}` : k);
    return out;
  }

  /** The locations a Location entity points to, resolved against its file. */
  function locationTargets(raw: Record<string, unknown>, one: LocationSpec): LocationSpec[] {
    const oneRef = `${one.type}:${one.target}`;
    const locSpec = (raw.spec ?? {}) as { type?: unknown; target?: unknown; targets?: unknown };
    const type = locSpec.type === 'url' || locSpec.type === 'file' ? locSpec.type : one.type;
    const targets = [locSpec.target, ...(Array.isArray(locSpec.targets) ? locSpec.targets : [])].filter((t): t is string => typeof t === 'string');
    const out: LocationSpec[] = [];
    for (const target of targets) {
      try {
        out.push(resolveTarget(type, target, one));
      } catch (err) {
        result.problems.push({ locationRef: oneRef, message: `target ${target}: ${(err as Error).message}` });
      }
    }
    return out;
  }

  async function expand(spec: LocationSpec): Promise<LocationSpec[]> {
    if (spec.type === 'url' || !/[*?{[]/.test(spec.target)) return [spec];
    const root = roots.find((r) => isInside(r, spec.target));
    if (!root) throw new Error(`${spec.target}: outside the catalog's file roots (${allowed})`);
    const matches = await glob(relative(root, spec.target), { cwd: root, absolute: true, onlyFiles: true, followSymbolicLinks: false });
    // Each match is re-checked against the roots when it is read (realpath), so a symlinked match cannot escape.
    return matches.sort().map((target) => ({ type: 'file' as const, target }));
  }

  /** Whether the location holds as many entities as it may; the first time, a problem says so. */
  function atLimit(locationRef: string): boolean {
    if (entityCount < options.maxEntities) return false;
    if (!overLimit) result.problems.push({ locationRef, message: `more than ${options.maxEntities} entities under one location; the rest were not read` });
    overLimit = true;
    return true;
  }

  async function visit(spec: LocationSpec, depth: number, chain: string[]): Promise<void> {
    const ref = `${spec.type}:${spec.target}`;
    if (chain.includes(ref)) {
      result.problems.push({ locationRef: chain[chain.length - 1]!, message: `Location cycle: ${[...chain, ref].join(' → ')}` });
      return;
    }
    if (depth > options.maxDepth) {
      result.problems.push({ locationRef: ref, message: `Locations nest deeper than ${options.maxDepth} levels` });
      return;
    }
    let specs: LocationSpec[];
    try {
      specs = await expand(spec);
    } catch (err) {
      result.problems.push({ locationRef: ref, message: (err as Error).message });
      result.unreadable.add(ref);
      return;
    }
    if (specs.length === 0) result.problems.push({ locationRef: ref, message: `${spec.target}: no file matches` });
    for (const [i, one] of specs.entries()) {
      const oneRef = `${one.type}:${one.target}`;
      if (result.visited.has(oneRef)) continue;
      result.visited.add(oneRef);
      readAhead(specs.slice(i + 1, i + 1 + READ_AHEAD));
      const loaded = await take(one);
      if ('error' in loaded) {
        result.problems.push({ locationRef: oneRef, message: loaded.error.message });
        // A file that cannot be read or parsed at all keeps what it emitted before.
        result.unreadable.add(oneRef);
        continue;
      }
      const sourceRef = sourceRefOf(one);
      const fileEntities: ReadEntity[] = [];
      const nested: LocationSpec[] = [];
      for (const doc of loaded.docs) {
        if (doc.unchanged) {
          if (atLimit(oneRef)) break;
          const { kind, name } = doc.unchanged;
          fileEntities.push({ raw: { kind, metadata: { name } }, locationRef: oneRef, sourceRef, docIndex: doc.index, unchanged: doc.unchanged });
          entityCount += 1;
          continue;
        }
        if (doc.preprocessed?.ok) {
          // Processed ahead: the processed entity stands for the document (same kind, name and spec).
          if (atLimit(oneRef)) break;
          const raw = doc.preprocessed.entity.entity as unknown as Record<string, unknown>;
          fileEntities.push({ raw, locationRef: oneRef, sourceRef, docIndex: doc.index, preprocessed: doc.preprocessed });
          entityCount += 1;
          if (raw.kind === 'Location') nested.push(...locationTargets(raw, one));
          continue;
        }
        if (doc.error) {
          result.problems.push({ locationRef: oneRef, message: doc.error });
          // A document we cannot parse may hold entities we had: nothing from this file is orphaned this time.
          result.unreadable.add(oneRef);
          continue;
        }
        if (doc.value === null || doc.value === undefined) continue;
        if (typeof doc.value !== 'object' || Array.isArray(doc.value)) {
          result.problems.push({ locationRef: oneRef, message: `${one.target}: document ${doc.index + 1} is not an object` });
          continue;
        }
        if (atLimit(oneRef)) break;
        let raw = doc.value as Record<string, unknown>;
        try {
          // Most documents hold no placeholder: a synchronous scan spares them the async walk.
          if (hasPlaceholder(doc.value)) raw = (await resolvePlaceholders(doc.value, one, '')) as Record<string, unknown>;
        } catch (err) {
          const name = (doc.value as { metadata?: { name?: unknown } }).metadata?.name;
          result.problems.push({ locationRef: oneRef, message: `${one.target}: document ${doc.index + 1}${typeof name === 'string' ? ` (${name})` : ''}: ${(err as Error).message}` });
          continue;
        }
        fileEntities.push({ raw, locationRef: oneRef, sourceRef, docIndex: doc.index, ...(doc.preprocessed ? { preprocessed: doc.preprocessed } : {}) });
        entityCount += 1;
        if (raw.kind === 'Location') nested.push(...locationTargets(raw, one));
      }
      if (onFile) await onFile(fileEntities);
      else result.entities.push(...fileEntities);
      for (const [j, next] of nested.entries()) {
        readAhead(nested.slice(j + 1, j + 1 + READ_AHEAD));
        await visit(next, depth + 1, [...chain, oneRef]);
      }
    }
  }

  await visit(root.type === 'file' ? { type: 'file', target: resolve(fileRoot, root.target) } : root, 0, []);
  return result;
}
