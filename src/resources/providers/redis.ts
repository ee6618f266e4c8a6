/**
 * Redis provider: an ACL user with a generated password, limited to keys and channels under the
 * claim's prefix (`<environment>:<name>:`) and to data commands (no @dangerous, no @admin).
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { newSecret } from '../../kernel/index.js';
import type { Provider, ProvisionContext } from './provider.js';

/** Command categories a claim's user gets; `-@dangerous` last, so KEYS, FLUSHALL, CONFIG, … stay out. */
const CATEGORIES = ['-@all', '+@read', '+@write', '+@keyspace', '+@string', '+@hash', '+@list', '+@set', '+@sortedset', '+@stream', '+@transaction', '+@connection', '-@dangerous'];

export function createRedisProvider(adminUrl: string): Provider {
  const url = new URL(adminUrl);
  const host = url.hostname;
  const port = url.port || '6379';
  let client: Redis | undefined;
  const redis = () => (client ??= new Redis(adminUrl, { lazyConnect: false, maxRetriesPerRequest: 1, connectTimeout: 3000, enableOfflineQueue: true }));
  const generate = (ctx: ProvisionContext) => {
    const password = newSecret(24);
    return { username: ctx.names.identifier, password, url: `redis://${ctx.names.identifier}:${password}@${host}:${port}` };
  };
  const credentials = (ctx: ProvisionContext) => ctx.secrets.ensureClaimSecret({ name: ctx.names.secretName, ownerRef: ctx.claim.owner, claimId: ctx.claim.id }, () => generate(ctx));
  const setUser = async (ctx: ProvisionContext) => {
    const { password } = await credentials(ctx);
    // `reset` first: the user ends up exactly as listed, whatever an earlier attempt or an operator left.
    await redis().call('ACL', 'SETUSER', ctx.names.identifier, ...rules(ctx, password!));
  };
  const rules = (ctx: ProvisionContext, password: string) => {
    const pubsub = ctx.claim.inputs.pubsub === true;
    return ['reset', 'on', `>${password}`, `~${ctx.names.redisKeyPrefix}*`, 'resetchannels', ...(pubsub ? [`&${ctx.names.redisKeyPrefix}*`] : []), ...CATEGORIES, ...(pubsub ? ['+@pubsub'] : [])];
  };

  /**
   * Grants widened outside Plinth, asked of the server itself (ACL DRYRUN, Redis 7; Redis normalizes
   * command rules, so comparing their text would not do): commands the user must not run, and
   * channels outside its prefix. Older servers cannot answer; then nothing is reported.
   */
  async function widenedGrants(ctx: ProvisionContext): Promise<string[]> {
    const user = ctx.names.identifier;
    const outside = `${ctx.names.redisKeyPrefix.replace(/:$/, '')}-outside:x`;
    const probes: [what: string, command: string[]][] = [
      ['FLUSHALL', ['FLUSHALL']],
      ['CONFIG', ['CONFIG', 'GET', 'maxmemory']],
      ['KEYS', ['KEYS', '*']],
      ['ACL', ['ACL', 'LIST']],
      ['SHUTDOWN', ['SHUTDOWN']],
      [`PUBLISH to ${outside}`, ['PUBLISH', outside, 'x']],
      ...(ctx.claim.inputs.pubsub === true ? [] : ([[`PUBLISH to ${ctx.names.redisKeyPrefix}x`, ['PUBLISH', `${ctx.names.redisKeyPrefix}x`, 'x']]] as [string, string[]][])),
    ];
    const problems: string[] = [];
    for (const [what, command] of probes) {
      let answer: unknown;
      try {
        answer = await redis().call('ACL', 'DRYRUN', user, ...command);
      } catch {
        return [];
      }
      if (answer === 'OK') problems.push(`ACL user ${user} may run ${what} (widened outside Plinth)`);
    }
    return problems;
  }

  return {
    name: 'redis',
    async unavailable() {
      try {
        await redis().ping();
        return undefined;
      } catch (err) {
        return `Redis at ${host}:${port} is unreachable (${(err as Error).message})`;
      }
    },
    steps: [
      { name: 'credentials', run: async (ctx) => void (await credentials(ctx)) },
      { name: 'acl-user', run: setUser },
    ],
    async outputs(ctx) {
      return { host, port, username: ctx.names.identifier, passwordRef: `${ctx.names.secretName}/password`, urlRef: `${ctx.names.secretName}/url`, keyPrefix: ctx.names.redisKeyPrefix };
    },
    async observe(ctx) {
      const user = (await redis().call('ACL', 'GETUSER', ctx.names.identifier)) as unknown[] | null;
      if (user === null) return [`ACL user ${ctx.names.identifier} does not exist`];
      const fields = new Map<string, unknown>();
      for (let i = 0; i + 1 < user.length; i += 2) fields.set(String(user[i]), user[i + 1]);
      const problems: string[] = [];
      const flags = (fields.get('flags') as string[] | undefined) ?? [];
      if (!flags.includes('on')) problems.push(`ACL user ${ctx.names.identifier} is disabled`);
      if (String(fields.get('keys')) !== `~${ctx.names.redisKeyPrefix}*`) problems.push(`ACL user ${ctx.names.identifier} reaches keys ${String(fields.get('keys'))}, not ~${ctx.names.redisKeyPrefix}*`);
      const { password } = await credentials(ctx);
      // The server keeps SHA-256 digests; during a rotation's grace period the old one is there too.
      const digests = ((fields.get('passwords') as string[] | undefined) ?? []).map(String);
      if (!digests.includes(createHash('sha256').update(password!).digest('hex'))) problems.push(`ACL user ${ctx.names.identifier}'s password is not the stored one (changed outside Plinth)`);
      problems.push(...(await widenedGrants(ctx)));
      return problems;
    },
    async backup() {
      return undefined;
    },
    rotation: {
      generate,
      // Redis users hold several passwords: the new one is added, the old one keeps working until revoke.
      async apply(ctx) {
        const { password } = await credentials(ctx);
        await redis().call('ACL', 'SETUSER', ctx.names.identifier, `>${password!}`);
      },
      async revoke(ctx) {
        // A user deleted meanwhile (its claim with it) stays deleted: SETUSER would create it again.
        if ((await redis().call('ACL', 'GETUSER', ctx.names.identifier)) === null) return { closedSessions: 0 };
        // Only the current password remains; connections already authenticated stay (Redis cannot tell which password they used).
        await setUser(ctx);
        return { closedSessions: 0 };
      },
    },
    async inventory() {
      const users = (await redis().call('ACL', 'USERS')) as string[];
      return users.filter((u) => u.startsWith('pl_')).map((name) => ({ kind: 'acl-user', name }));
    },
    async destroy(ctx) {
      await redis().call('ACL', 'DELUSER', ctx.names.identifier);
      // The claim's keys go with it: SCAN (not KEYS) so a large keyspace does not block the server.
      let cursor = '0';
      do {
        const [next, keys] = await redis().scan(cursor, 'MATCH', `${ctx.names.redisKeyPrefix}*`, 'COUNT', 500);
        if (keys.length > 0) await redis().unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    },
    async close() {
      client?.disconnect();
      client = undefined;
    },
  };
}
