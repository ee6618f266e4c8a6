/**
 * The secret store. Values are sealed at rest (crypto.ts) and write-only through the API: listing
 * and reading show names, owners, keys and versions. The one way to see a value is `reveal`, allowed
 * to the owning team (and platform admins, who hold the master key anyway) and recorded in the ledger.
 * The runtime reads values through `source` when it starts a workload that references them.
 */
import { authorize, ConflictError, InputError, NotFoundError, principalRef, toIso, type Db, type Kernel, type Permission, type Principal } from '../../kernel/index.js';
import { normalizeOwner } from '../model/claim.js';
import { parseSecretRef, type CreateSecretBody, type PutSecretVersionBody, type RevealedSecretView, type SecretView } from '../model/secret.js';
import * as q from '../store/index.js';
import { loadKeyring, seal, unseal, type Keyring } from './crypto.js';
import type { RewrapBody, RewrapStarted, SecretKeysView } from './model.js';
import { createKeyRotation } from './rotation.js';

export const secretPermissions = {
  read: { name: 'read secret metadata', verb: 'read' },
  write: { name: 'change secrets', verb: 'write' },
  reveal: { name: 'reveal a secret value', verb: 'write' },
} satisfies Record<string, Permission>;

/** The runtime's view: `name` or `name/key` → the current value, undefined when absent. */
export type SecretSource = (ref: string) => Promise<string | undefined>;

export interface Secrets {
  start(): Promise<void>;
  create(principal: Principal, input: CreateSecretBody): Promise<SecretView>;
  addVersion(principal: Principal, name: string, input: PutSecretVersionBody): Promise<SecretView>;
  list(principal: Principal): Promise<SecretView[]>;
  get(principal: Principal, name: string): Promise<SecretView>;
  reveal(principal: Principal, name: string): Promise<RevealedSecretView>;
  delete(principal: Principal, name: string): Promise<void>;
  source: SecretSource;
  /**
   * A claim's credentials (or, with `claimId: null`, a platform secret such as the internal CA): created
   * once with `generate()`, then always the stored values (a retried step reuses them).
   */
  ensureClaimSecret(input: { name: string; ownerRef: string; claimId: string | null }, generate: () => Record<string, string> | Promise<Record<string, string>>): Promise<Record<string, string>>;
  /** A new version of a claim's credentials (rotation), in `db`'s transaction; returns its number. */
  addClaimVersion(name: string, data: Record<string, string>, db: Db): Promise<number>;
  /** Removes a claim's credentials (deprovisioning). */
  removeClaimSecret(name: string, db?: Db): Promise<void>;
  /** Starts re-wrapping every version still on a previous master key (platform admins); a job. */
  rewrap(principal: Principal, input: RewrapBody): Promise<RewrapStarted>;
  /** The keyring's key ids and how many versions each wraps (platform admins). */
  keys(principal: Principal): Promise<SecretKeysView>;
}

const view = (s: q.SecretRecord): SecretView => ({ name: s.name, owner: s.ownerRef, keys: s.keys, version: s.version, claimId: s.claimId, createdBy: s.createdBy, createdAt: s.createdAt, updatedAt: s.updatedAt });

function dataOf(input: { value?: string; data?: Record<string, string> }): Record<string, string> {
  if ((input.value === undefined) === (input.data === undefined)) throw new InputError('give either `value` (one value) or `data` (keys and values), not both');
  return input.data ?? { value: input.value! };
}

/** Names the API's key routes take (`/secrets/keys`, `/secrets/rewrap`), so no secret is shadowed by them. */
const reservedNames = new Set(['keys', 'rewrap']);

export function createSecrets(kernel: Kernel): Secrets {
  const { store, clock, ledger, config, logger } = kernel;
  let ring: Keyring | undefined;
  const keyring = () => {
    if (!ring) throw new Error('the secret store is not started');
    return ring;
  };
  const rotation = createKeyRotation(kernel, keyring);
  const aad = (name: string, version: number) => `secret:${name}:v${version}`;

  async function load(name: string): Promise<(q.SecretRecord & { data: Record<string, string> }) | undefined> {
    const found = await q.selectSecret(store, name);
    if (!found) return undefined;
    return { ...found, data: JSON.parse(unseal(keyring(), found.sealed, aad(found.name, found.version))) as Record<string, string> };
  }

  async function owned(principal: Principal, name: string, permission: Permission): Promise<q.SecretRecord & { sealed: unknown }> {
    const found = await q.selectSecret(store, name);
    if (!found) throw new NotFoundError(`no secret named ${name}`);
    authorize(principal, permission, { type: 'secret', id: name, ownerRef: found.ownerRef });
    return found;
  }

  return {
    async start() {
      ring = await loadKeyring(config.dataDir, { current: config.resources.secretsKey, previous: config.resources.secretsPreviousKeys });
      // Key ids only: which keys this server holds, so an operator can compare replicas.
      logger.child({ layer: 'resources' }).info({ currentKeyId: ring.current.id, previousKeyIds: ring.previous.map((k) => k.id) }, 'secret store keyring loaded');
      rotation.register();
    },

    async create(principal, input) {
      const ownerRef = normalizeOwner(input.owner);
      authorize(principal, secretPermissions.write, { type: 'secret', id: input.name, ownerRef });
      if (input.name.startsWith('claim.')) throw new InputError(`name: "claim." secrets belong to resource claims; pick another name`);
      // The platform's own secrets (the internal CA) cannot be planted in advance under their name.
      if (input.name.startsWith('plinth.')) throw new InputError(`name: "plinth." secrets belong to the platform; pick another name`);
      if (reservedNames.has(input.name)) throw new InputError(`name: "${input.name}" is taken by the API (/api/resources/secrets/${input.name}); pick another name`);
      const data = dataOf(input);
      const at = toIso(clock.now());
      const actor = principalRef(principal);
      await store.transaction(async (tx) => {
        await q.insertSecret(tx, store.dialect, { name: input.name, ownerRef, claimId: null, keys: Object.keys(data).sort(), sealed: seal(keyring(), JSON.stringify(data), aad(input.name, 1)), actor, at });
        await ledger.append({ kind: 'resources.secret.created', subjects: [`secret:${input.name}`, ownerRef], actor, payload: { name: input.name, version: 1, keys: Object.keys(data).sort() } }, { db: tx });
      });
      return view((await q.selectSecret(store, input.name))!);
    },

    async addVersion(principal, name, input) {
      const found = await owned(principal, name, secretPermissions.write);
      const data = dataOf(input);
      const actor = principalRef(principal);
      const version = found.version + 1;
      await store.transaction(async (tx) => {
        await q.addSecretVersion(tx, name, found.version, { keys: Object.keys(data).sort(), sealed: seal(keyring(), JSON.stringify(data), aad(name, version)), actor, at: toIso(clock.now()) });
        await ledger.append({ kind: 'resources.secret.rotated', subjects: [`secret:${name}`, found.ownerRef], actor, payload: { name, version } }, { db: tx });
      });
      return view((await q.selectSecret(store, name))!);
    },

    async list(principal) {
      authorize(principal, secretPermissions.read);
      const ownerRefs = principal.kind === 'user' && principal.role !== 'platform-admin' ? principal.ownershipRefs : undefined;
      return (await q.listSecrets(store, { ownerRefs })).map(view);
    },

    async get(principal, name) {
      authorize(principal, secretPermissions.read);
      const found = await q.selectSecret(store, name);
      // Names of other teams' secrets are not listed; asking for one looks like asking for nothing.
      if (!found || (principal.kind === 'user' && principal.role !== 'platform-admin' && !principal.ownershipRefs.includes(found.ownerRef))) throw new NotFoundError(`no secret named ${name}`);
      return view(found);
    },

    async reveal(principal, name) {
      await owned(principal, name, secretPermissions.reveal);
      const loaded = (await load(name))!;
      await ledger.append({ kind: 'resources.secret.revealed', subjects: [`secret:${name}`, loaded.ownerRef], actor: principalRef(principal), payload: { name, version: loaded.version } });
      return { name, version: loaded.version, data: loaded.data };
    },

    async delete(principal, name) {
      const found = await owned(principal, name, secretPermissions.write);
      if (found.claimId !== null) throw new ConflictError(`secret ${name} holds the credentials of claim ${found.claimId}; delete the claim instead`);
      await store.transaction(async (tx) => {
        await q.deleteSecret(tx, name);
        await ledger.append({ kind: 'resources.secret.deleted', subjects: [`secret:${name}`, found.ownerRef], actor: principalRef(principal), payload: { name } }, { db: tx });
      });
    },

    async source(ref) {
      const parsed = parseSecretRef(ref);
      if (!parsed) return undefined;
      return (await load(parsed.name))?.data[parsed.key];
    },

    async ensureClaimSecret(input, generate) {
      const existing = await load(input.name);
      if (existing) return existing.data;
      const data = await generate();
      const at = toIso(clock.now());
      try {
        await q.insertSecret(store, store.dialect, { name: input.name, ownerRef: input.ownerRef, claimId: input.claimId, keys: Object.keys(data).sort(), sealed: seal(keyring(), JSON.stringify(data), aad(input.name, 1)), actor: 'system:resources', at });
      } catch (err) {
        // Another attempt of the same step won the race: its values are the ones to use.
        if (!(err instanceof ConflictError)) throw err;
        return (await load(input.name))!.data;
      }
      return data;
    },

    async addClaimVersion(name, data, db) {
      const found = await q.selectSecret(db, name);
      if (!found) throw new NotFoundError(`no secret named ${name}`);
      const version = found.version + 1;
      await q.addSecretVersion(db, name, found.version, { keys: Object.keys(data).sort(), sealed: seal(keyring(), JSON.stringify(data), aad(name, version)), actor: 'system:resources', at: toIso(clock.now()) });
      return version;
    },

    async removeClaimSecret(name, db) {
      await q.deleteSecret(db ?? store, name);
    },

    rewrap: (principal, input) => rotation.startRewrap(principal, input),
    keys: (principal) => rotation.status(principal),
  };
}
