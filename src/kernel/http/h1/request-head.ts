/**
 * The front end (front.ts) parses a request head itself only when the request is plain: HTTP/1.1, a
 * known method, an origin-form target, exactly one Host, no body (neither Content-Length nor
 * Transfer-Encoding), no Expect or Upgrade, and every line well formed. Anything else (a body, an
 * older version, a malformed or doubtful line) is left to node:http, which parses the same bytes from
 * the start of the request and answers 4xx where they are malformed. So the front end never has to
 * decide where a body ends, which is where request smuggling lives (RFC 9112 §6.3, §11.2).
 */
import { scanFieldLine, type FieldLineBounds } from './field-line.js';

/** A request the front end takes. */
export interface RequestHead {
  method: string;
  /** The request target, origin-form (`/path?query`). */
  url: string;
  /** Field names as sent, `[name, value, name, value, …]`. */
  rawHeaders: string[];
  /** The client asked to close the connection after this response. */
  close: boolean;
}

/** Methods llhttp knows that a request without a body commonly uses; any other is node:http's to parse. */
const PLAIN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
const VERSION = 'HTTP/1.1';
/** Filled by scanFieldLine for each line (parsing is synchronous: one object serves every head). */
const bounds: FieldLineBounds = { colon: 0, from: 0, to: 0 };

/** The fields whose presence hands the request to node:http (lower-cased): they mean a body, or a protocol switch. */
function refusedField(name: string): boolean {
  switch (name.length) {
    case 6:
      return name.toLowerCase() === 'expect';
    case 7:
      return name.toLowerCase() === 'upgrade';
    case 14:
      return name.toLowerCase() === 'content-length';
    case 17:
      return name.toLowerCase() === 'transfer-encoding';
    default:
      return false;
  }
}

/**
 * Parses `text`, a request head up to (not including) its empty line, read as latin1. Returns undefined
 * for any request the front end does not take (see above): never throws.
 */
export function parseRequestHead(text: string): RequestHead | undefined {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const methodEnd = text.indexOf(' ');
  if (methodEnd <= 0 || methodEnd >= eol) return undefined;
  const method = text.slice(0, methodEnd);
  if (!PLAIN_METHODS.has(method)) return undefined;
  const targetEnd = eol - VERSION.length - 1;
  if (targetEnd <= methodEnd + 1 || text.charCodeAt(targetEnd) !== 0x20 || !text.startsWith(VERSION, targetEnd + 1)) return undefined;
  if (text.charCodeAt(methodEnd + 1) !== 0x2f) return undefined; // origin-form only
  for (let i = methodEnd + 1; i < targetEnd; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return undefined;
  }
  const url = text.slice(methodEnd + 1, targetEnd);
  const rawHeaders: string[] = [];
  let hosts = 0;
  let close = false;
  for (let start = eol + 2; start < text.length; start = eol + 2) {
    eol = text.indexOf('\r\n', start);
    if (eol < 0) eol = text.length;
    // Line folding, a space before the colon, an empty name, a bare CR or LF: all node:http's to refuse.
    if (scanFieldLine(text, start, eol, bounds) !== 'ok') return undefined;
    const name = text.slice(start, bounds.colon);
    const value = text.slice(bounds.from, bounds.to);
    if (refusedField(name)) return undefined;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts += 1;
    else if (name.length === 10 && name.toLowerCase() === 'connection') {
      for (const token of value.split(',')) {
        const t = token.trim().toLowerCase();
        if (t === 'close') close = true;
        else if (t === 'upgrade') return undefined;
      }
    }
    rawHeaders.push(name, value);
  }
  // RFC 9112 §3.2: exactly one Host; node:http answers 400 when it is missing.
  if (hosts !== 1) return undefined;
  return { method, url, rawHeaders, close };
}
