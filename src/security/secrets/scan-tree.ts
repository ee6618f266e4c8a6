import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { join, relative, sep } from 'node:path';
import { detectSecrets, isFileAllowed } from './detect.js';
import type { Finding, SecretsConfig, Skipped } from './model.js';

export interface TreeScanOptions {
  /** Files larger than this are skipped with a reason (default 10 MiB). */
  maxFileBytes?: number;
  /** Lines longer than this (minified bundles) are scanned only up to it (default 20,000 chars). */
  maxLineChars?: number;
  /** Scan inside node_modules folders too (default false). */
  includeNodeModules?: boolean;
  signal?: AbortSignal;
}

export interface TreeScanOutput {
  findings: Finding[];
  skipped: Skipped[];
  filesScanned: number;
  bytesScanned: number;
}

const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_LINE_CHARS = 20_000;
/** Git's own heuristic: a NUL byte in the first 8000 bytes makes a file binary. */
const BINARY_SNIFF_BYTES = 8000;
/** The longest the scan holds the event loop before letting other work (HTTP, jobs) run. */
const SLICE_MS = 20;

/** Cuts lines longer than `max` to `max` characters, keeping line numbers; returns how many were cut. */
export function capLongLines(text: string, max: number): { text: string; cut: number } {
  let cut = 0;
  let start = 0;
  let hasLong = false;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const stop = end < 0 ? text.length : end;
    if (stop - start > max) {
      hasLong = true;
      break;
    }
    if (end < 0) break;
    start = end + 1;
  }
  if (!hasLong) return { text, cut: 0 };
  const lines = text.split('\n').map((line) => {
    if (line.length <= max) return line;
    cut++;
    return line.slice(0, max);
  });
  return { text: lines.join('\n'), cut };
}

/**
 * Reads a file as text, or says why it is not scanned (too large, binary). Synchronous on purpose:
 * for the small files a source tree is made of, four thread-pool round trips per file (open, stat,
 * read, close) cost more than the reads; the walk yields to the event loop between slices instead.
 */
function readScannable(path: string, maxBytes: number): { text: string; bytes: number } | { skip: string } {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > maxBytes) return { skip: `larger than ${maxBytes} bytes (${size})` };
    const buffer = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    if (buffer.subarray(0, Math.min(read, BINARY_SNIFF_BYTES)).includes(0)) return { skip: 'binary file' };
    return { text: buffer.toString('utf8', 0, read), bytes: read };
  } finally {
    closeSync(fd);
  }
}

const toPosix = (path: string) => (sep === '/' ? path : path.split(sep).join('/'));

/**
 * Walks a working tree and scans every text file. Symlinks are never followed (so a link loop cannot
 * trap the walk) and are reported; the walk uses an explicit stack, so deep trees cannot overflow it.
 */
export async function scanTree(root: string, config: SecretsConfig, options: TreeScanOptions = {}): Promise<TreeScanOutput> {
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxLine = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const out: TreeScanOutput = { findings: [], skipped: [], filesScanned: 0, bytesScanned: 0 };
  const files: { path: string; rel: string }[] = [];
  const stack: string[] = [root];
  while (stack.length > 0) {
    options.signal?.throwIfAborted();
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      out.skipped.push({ file: toPosix(relative(root, dir)) || '.', reason: `cannot read folder: ${(err as NodeJS.ErrnoException).code ?? 'error'}` });
      continue;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const rel = toPosix(relative(root, path));
      if (entry.isSymbolicLink()) {
        out.skipped.push({ file: rel, reason: 'symbolic link, not followed' });
      } else if (entry.isDirectory()) {
        if (entry.name === '.git' || (entry.name === 'node_modules' && options.includeNodeModules !== true)) continue;
        stack.push(path);
      } else if (entry.isFile() && !isFileAllowed(config, rel)) {
        files.push({ path, rel });
      }
    }
  }
  let sliceStart = performance.now();
  for (const file of files) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
      sliceStart = performance.now();
    }
    scanOneFile(file.path, file.rel, config, maxBytes, maxLine, out);
  }
  const byPosition = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  out.findings.sort((a, b) => byPosition(a, b) || a.line - b.line || a.column - b.column);
  out.skipped.sort(byPosition);
  return out;
}

function scanOneFile(path: string, rel: string, config: SecretsConfig, maxBytes: number, maxLine: number, out: TreeScanOutput): void {
  let content;
  try {
    content = readScannable(path, maxBytes);
  } catch (err) {
    out.skipped.push({ file: rel, reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}` });
    return;
  }
  if ('skip' in content) {
    out.skipped.push({ file: rel, reason: content.skip });
    return;
  }
  const capped = capLongLines(content.text, maxLine);
  if (capped.cut > 0) out.skipped.push({ file: rel, reason: `${capped.cut} line(s) longer than ${maxLine} chars (minified?) scanned only up to that length` });
  out.filesScanned++;
  out.bytesScanned += content.bytes;
  for (const f of detectSecrets(config, capped.text, { file: rel })) out.findings.push(f);
}
