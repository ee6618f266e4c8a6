import { gunzipSync, gzipSync } from 'node:zlib';

// A small POSIX ustar (+ pax for long names) writer and reader. The writer is deterministic by
// construction: the caller's entry order (sorted), mtime 0, uid/gid 0 and no owner names, so the same
// files always give the same bytes. gzip adds no name and mtime 0 (Node's zlib), so the .tgz is stable too.

const BLOCK = 512;

export interface TarEntry {
  /** Relative path with `/` separators; directories end without a slash. */
  path: string;
  type: 'file' | 'directory';
  /** Permission bits including setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  /** File content (empty for directories). */
  content: Buffer;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(fields: { name: string; prefix: string; mode: number; size: number; type: string }): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  h.write(fields.name, 0, 100, 'utf8');
  h.write(octal(fields.mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(fields.size, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii'); // mtime: fixed, so a rebuild of the same commit has the same digest
  h.write('        ', 148, 8, 'ascii'); // checksum placeholder (spaces) while summing
  h.write(fields.type, 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.write(fields.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);

/** Splits a path into ustar's 155-byte prefix and 100-byte name; undefined when it does not fit. */
function splitUstar(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { prefix, name };
  }
  return undefined;
}

/** A pax extended header record: "<len> path=<value>\n", where len counts the whole record. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** A tar archive of the entries, in the order given (callers sort them), ending with two zero blocks. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const path = entry.type === 'directory' ? `${entry.path}/` : entry.path;
    const size = entry.type === 'file' ? entry.content.length : 0;
    const type = entry.type === 'file' ? '0' : '5';
    let split = splitUstar(path);
    if (split === undefined) {
      const pax = Buffer.from(paxRecord('path', path), 'utf8');
      parts.push(header({ name: 'PaxHeader', prefix: '', mode: 0o644, size: pax.length, type: 'x' }), pax, padding(pax.length));
      split = { prefix: '', name: path.slice(-100).replace(/^[^/]*\//, '') };
    }
    parts.push(header({ ...split, mode: entry.mode & 0o7777, size, type }));
    if (size > 0) parts.push(entry.content, padding(size));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

/** gzip of `writeTar` at the highest level. */
export const writeTarGz = (entries: readonly TarEntry[]): Buffer => gzipSync(writeTar(entries), { level: 9 });

/** An entry as read back: symlinks and other kinds are reported with their type, never followed. */
export interface ReadTarEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  size: number;
  /** Link target for links. */
  linkName: string;
  content: Buffer;
}

const field = (h: Buffer, start: number, length: number): string => {
  const raw = h.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
};
const octalField = (h: Buffer, start: number, length: number): number => {
  const text = field(h, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
};

/** Reads a tar (or gzipped tar) archive; throws an Error naming the offset when it is malformed. */
export function readTar(archive: Buffer, options: { maxBytes?: number } = {}): ReadTarEntry[] {
  const data = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive, { maxOutputLength: options.maxBytes ?? 1024 ** 3 }) : archive;
  const entries: ReadTarEntry[] = [];
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + BLOCK <= data.length) {
    const h = data.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== octalField(h, 148, 8)) throw new Error(`not a tar archive: bad header checksum at byte ${offset}`);
    const size = octalField(h, 124, 12);
    const typeFlag = field(h, 156, 1) || '0';
    const prefix = field(h, 345, 155);
    const name = prefix !== '' ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
    const bodyStart = offset + BLOCK;
    if (bodyStart + size > data.length) throw new Error(`truncated tar archive: entry ${name} needs ${size} bytes at byte ${bodyStart}`);
    const content = data.subarray(bodyStart, bodyStart + size);
    offset = bodyStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeFlag === 'x') {
      const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString('utf8'));
      paxPath = match?.[1];
      continue;
    }
    if (typeFlag === 'g') continue;
    const path = (paxPath ?? name).replace(/\/$/, '');
    paxPath = undefined;
    const type = typeFlag === '0' || typeFlag === '7' ? 'file' : typeFlag === '5' ? 'directory' : typeFlag === '2' ? 'symlink' : typeFlag === '1' ? 'hardlink' : 'other';
    entries.push({ path, type, mode: octalField(h, 100, 8) & 0o7777, size, linkName: field(h, 157, 100), content: type === 'file' ? Buffer.from(content) : Buffer.alloc(0) });
  }
  return entries;
}
