import { z } from 'zod';
import { nameSchema, ownerSchema } from './names.js';

// ---- Smart HTTP -------------------------------------------------------------------------------

export type GitService = 'upload-pack' | 'receive-pack';

/** The password of an HTTP Basic `Authorization` header (where git sends the API token), or undefined. */
export function basicAuthPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** The `Git-Protocol` header, passed to upload-pack as GIT_PROTOCOL when it looks like one (`version=2`). */
export function gitProtocolOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^[A-Za-z0-9=:._-]{1,256}$/.test(header) ? header : undefined;
}

export const isProtocolV2 = (protocol: string | undefined): boolean => protocol !== undefined && protocol.split(':').includes('version=2');

/** One pkt-line: four hex digits of length (including themselves), then the data. */
export function pktLine(data: string): string {
  return (Buffer.byteLength(data) + 4).toString(16).padStart(4, '0') + data;
}

/** The `<repo>` URL segment without the optional `.git` suffix. */
export const GitPathParams = z.strictObject({
  owner: ownerSchema,
  repo: z.string().max(200).transform((v) => v.replace(/\.git$/, '')).pipe(nameSchema),
});
