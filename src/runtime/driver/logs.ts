import { createReadStream, createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

/** One captured output line of a replica. */
export interface LogLine {
  time: string;
  service: string;
  environment: string;
  releaseId: string;
  replica: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogQuery {
  /** Case-sensitive regular expression matched against the line text. */
  grep?: RegExp;
  /** ISO time: lines at or after it. */
  since?: string;
  limit?: number;
}

const MASK = '***';

/**
 * A replica's output: appended to a log file (JSON lines, the searchable record) and kept in a bounded
 * in-memory tail for followers. Secret values are masked before either sees a line.
 */
export interface ReplicaLog {
  readonly file: string;
  write(stream: 'stdout' | 'stderr', chunk: string): void;
  tail(): readonly LogLine[];
  close(): Promise<void>;
}

export function createReplicaLog(input: {
  file: string;
  tailLines: number;
  base: Omit<LogLine, 'time' | 'stream' | 'text'>;
  secrets: readonly string[];
  onLine: (line: LogLine) => void;
}): ReplicaLog {
  mkdirSync(dirname(input.file), { recursive: true });
  const out: WriteStream = createWriteStream(input.file, { flags: 'a' });
  const tail: LogLine[] = [];
  const partial = { stdout: '', stderr: '' };
  // Longest first, so a secret containing another is masked whole.
  const secrets = input.secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const mask = (text: string) => secrets.reduce((t, s) => t.split(s).join(MASK), text);
  const emit = (stream: 'stdout' | 'stderr', text: string) => {
    const line: LogLine = { time: new Date().toISOString(), ...input.base, stream, text: mask(text) };
    tail.push(line);
    if (tail.length > input.tailLines) tail.splice(0, tail.length - input.tailLines);
    out.write(JSON.stringify(line) + '\n');
    input.onLine(line);
  };
  return {
    file: input.file,
    write(stream, chunk) {
      const lines = (partial[stream] + chunk).split('\n');
      partial[stream] = lines.pop() ?? '';
      // A line longer than 16 KiB is cut so a runaway writer cannot grow the buffer without bound.
      if (partial[stream].length > 16_384) {
        lines.push(partial[stream]);
        partial[stream] = '';
      }
      for (const l of lines) emit(stream, l.replace(/\r$/, ''));
    },
    tail: () => tail,
    close() {
      for (const stream of ['stdout', 'stderr'] as const) if (partial[stream] !== '') emit(stream, partial[stream]);
      partial.stdout = partial.stderr = '';
      return new Promise((resolve) => out.end(resolve));
    },
  };
}

/** Lines of the given log files that match, oldest first, at most `limit` (the newest ones). */
export async function searchLogFiles(files: readonly string[], query: LogQuery): Promise<LogLine[]> {
  const limit = query.limit ?? 1000;
  const found: LogLine[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const text of rl) {
      if (text === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue; // a line cut by a crash mid-write
      }
      if (matchesLogQuery(line, query)) found.push(line);
    }
  }
  found.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  return found.slice(-limit);
}

export function matchesLogQuery(line: LogLine, query: LogQuery): boolean {
  if (query.since !== undefined && line.time < query.since) return false;
  if (query.grep !== undefined && !query.grep.test(line.text)) return false;
  return true;
}
