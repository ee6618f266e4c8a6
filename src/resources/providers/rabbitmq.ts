/**
 * RabbitMQ provider: a vhost with connection and queue limits, a user with a generated password and
 * permissions on that vhost only, through the management HTTP API (the `rabbitmq_management`
 * plugin). Final backups and restores are the vhost's definitions (`/api/definitions/<vhost>`).
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { newSecret } from '../../kernel/index.js';
import type { Provider, ProvisionContext } from './provider.js';

/** What a claim's user may do on its own vhost; on no other vhost it has any permission. */
const FULL = { configure: '.*', write: '.*', read: '.*' } as const;
const LIMITS = { maxConnections: 'max-connections', maxQueues: 'max-queues' } as const;

interface RabbitUser {
  name: string;
  password_hash: string;
  hashing_algorithm: string;
  tags: string[] | string;
}
interface RabbitPermission {
  vhost: string;
  configure: string;
  write: string;
  read: string;
}
interface RabbitConnection {
  name: string;
  user: string;
  connected_at?: number;
}

/**
 * Whether `hash` (the management API's `password_hash`: base64 of a 4-byte salt followed by
 * H(salt ‖ password)) is the hash of `password`; see rabbit_password.erl.
 */
export function rabbitPasswordMatches(hash: string, algorithm: string, password: string): boolean {
  const algorithms: Record<string, string> = { rabbit_password_hashing_sha256: 'sha256', rabbit_password_hashing_sha512: 'sha512', rabbit_password_hashing_md5: 'md5' };
  const digest = algorithms[algorithm];
  const raw = Buffer.from(hash, 'base64');
  if (!digest || raw.length < 5) return false;
  const salt = raw.subarray(0, 4);
  return createHash(digest).update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest().equals(raw.subarray(4));
}

export function createRabbitmqProvider(amqpUrl: string, managementUrl: string): Provider {
  const amqp = new URL(amqpUrl);
  const host = amqp.hostname;
  const port = amqp.port || (amqp.protocol === 'amqps:' ? '5671' : '5672');
  const base = managementUrl.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(amqp.username || 'guest')}:${decodeURIComponent(amqp.password || 'guest')}`).toString('base64')}`;
  const at = (...parts: string[]) => `${base}/api/${parts.map((p) => encodeURIComponent(p)).join('/')}`;

  /** One management API call; 404 is `undefined` (the caller decides what absence means). */
  async function api<T>(method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<T | undefined> {
    const res = await fetch(url, {
      method,
      headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404) return undefined;
    const text = await res.text();
    if (!res.ok) throw new Error(`RabbitMQ management API ${method} ${new URL(url).pathname} answered ${res.status}: ${text.slice(0, 300)}`);
    return text === '' ? (undefined as T) : (JSON.parse(text) as T);
  }

  const urlFor = (vhost: string, user: string, password?: string) => {
    const url = new URL(amqpUrl);
    url.username = encodeURIComponent(user);
    url.password = password === undefined ? '' : encodeURIComponent(password);
    url.pathname = `/${encodeURIComponent(vhost)}`;
    return url.toString();
  };
  const generate = (ctx: ProvisionContext) => {
    const password = newSecret(24);
    return { username: ctx.names.identifier, password, url: urlFor(ctx.names.identifier, ctx.names.identifier, password) };
  };
  const credentials = (ctx: ProvisionContext) => ctx.secrets.ensureClaimSecret({ name: ctx.names.secretName, ownerRef: ctx.claim.owner, claimId: ctx.claim.id }, () => generate(ctx));
  const setUser = async (ctx: ProvisionContext) => {
    const { password } = await credentials(ctx);
    // No tags: the user cannot log in to the management UI or API, only speak AMQP.
    await api('PUT', at('users', ctx.names.identifier), { password, tags: '' });
  };
  const wantedLimits = (ctx: ProvisionContext) =>
    Object.entries(LIMITS).map(([input, limit]) => [limit, typeof ctx.claim.inputs[input] === 'number' ? (ctx.claim.inputs[input] as number) : undefined] as const);

  return {
    name: 'rabbitmq',
    async unavailable() {
      try {
        await api('GET', `${base}/api/overview`);
        return undefined;
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        return `the RabbitMQ management API at ${base} is unreachable (${cause}); enable it with \`rabbitmq-plugins enable rabbitmq_management\``;
      }
    },
    steps: [
      { name: 'credentials', run: async (ctx) => void (await credentials(ctx)) },
      {
        name: 'vhost',
        run: async (ctx) => void (await api('PUT', at('vhosts', ctx.names.identifier), { description: `Plinth claim ${ctx.claim.environment}/${ctx.claim.name}`, tags: 'plinth' })),
      },
      { name: 'user', run: setUser },
      {
        name: 'permissions',
        async run(ctx) {
          const user = ctx.names.identifier;
          await api('PUT', at('permissions', user, user), FULL);
          // Absolute: permissions anyone added on other vhosts go.
          for (const p of (await api<RabbitPermission[]>('GET', at('users', user, 'permissions'))) ?? []) {
            if (p.vhost !== user) await api('DELETE', at('permissions', p.vhost, user));
          }
        },
      },
      {
        name: 'limits',
        async run(ctx) {
          for (const [limit, value] of wantedLimits(ctx)) {
            if (value === undefined) await api('DELETE', at('vhost-limits', ctx.names.identifier, limit));
            else await api('PUT', at('vhost-limits', ctx.names.identifier, limit), { value });
          }
        },
      },
    ],
    async outputs(ctx) {
      const name = ctx.names.identifier;
      return { host, port, vhost: name, username: name, passwordRef: `${ctx.names.secretName}/password`, urlRef: `${ctx.names.secretName}/url`, url: urlFor(name, name) };
    },
    async observe(ctx) {
      const name = ctx.names.identifier;
      const problems: string[] = [];
      if (!(await api('GET', at('vhosts', name)))) problems.push(`vhost ${name} does not exist`);
      else {
        const limits = (await api<{ value: Record<string, number> }[]>('GET', at('vhost-limits', name)))?.[0]?.value ?? {};
        for (const [limit, value] of wantedLimits(ctx)) {
          if (limits[limit] !== value) problems.push(`vhost ${name} has ${limit} ${limits[limit] ?? 'unlimited'}, not ${value ?? 'unlimited'}`);
        }
      }
      const user = await api<RabbitUser>('GET', at('users', name));
      if (!user) return [...problems, `user ${name} does not exist`];
      const tags = Array.isArray(user.tags) ? user.tags : user.tags.split(',').filter(Boolean);
      if (tags.length > 0) problems.push(`user ${name} has the tags ${tags.join(', ')}, not none`);
      const { password } = await credentials(ctx);
      if (!rabbitPasswordMatches(user.password_hash, user.hashing_algorithm, password!)) problems.push(`user ${name}'s password is not the stored one (changed outside Plinth)`);
      const permissions = (await api<RabbitPermission[]>('GET', at('users', name, 'permissions'))) ?? [];
      for (const p of permissions) if (p.vhost !== name) problems.push(`user ${name} has permissions on vhost ${p.vhost}`);
      const own = permissions.find((p) => p.vhost === name);
      if (!own) problems.push(`user ${name} has no permissions on vhost ${name}`);
      return problems;
    },
    async backup(ctx, file) {
      const definitions = await api<unknown>('GET', at('definitions', ctx.names.identifier));
      if (definitions === undefined) return undefined;
      await writeFile(file, JSON.stringify(definitions, null, 2), { mode: 0o600 });
      return { path: file, bytes: (await stat(file)).size };
    },
    async restore(ctx, file) {
      // Definitions (queues, exchanges, bindings, policies) are merged into the vhost; messages are not part of a backup.
      await api('POST', at('definitions', ctx.names.identifier), JSON.parse(await readFile(file, 'utf8')) as unknown);
    },
    rotation: {
      generate,
      // RabbitMQ keeps one password per user: new logins need the new one at once; open connections stay.
      apply: setUser,
      async revoke(ctx, rotatedAt) {
        const name = ctx.names.identifier;
        let closed = 0;
        for (const c of (await api<RabbitConnection[]>('GET', at('vhosts', name, 'connections'))) ?? []) {
          if (c.user !== name || (c.connected_at ?? 0) >= rotatedAt.getTime()) continue;
          await api('DELETE', at('connections', c.name), undefined, { 'x-reason': 'credentials rotated by Plinth; reconnect with the current password' });
          closed += 1;
        }
        return { closedSessions: closed };
      },
    },
    async inventory() {
      const named = async (what: 'vhosts' | 'users', kind: string) => ((await api<{ name: string }[]>('GET', at(what))) ?? []).filter((o) => o.name.startsWith('pl_')).map((o) => ({ kind, name: o.name }));
      return [...(await named('vhosts', 'vhost')), ...(await named('users', 'user'))];
    },
    async destroy(ctx) {
      await api('DELETE', at('vhosts', ctx.names.identifier));
      await api('DELETE', at('users', ctx.names.identifier));
    },
    close: async () => undefined,
  };
}
