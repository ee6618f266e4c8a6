import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Git, RefPushedPayload } from '../../git/index.js';
import {
  authorize,
  AuthenticationError,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  newId,
  newSecret,
  principalRef,
  toIso,
  type Kernel,
  type Principal,
  type Tx,
} from '../../kernel/index.js';
import { loadCredentialKey, seal, unseal, type CredentialKey } from './crypto.js';
import {
  classifyEvent,
  EXTERNAL_OWNER,
  externalPermissions,
  isValidGithubSignature,
  isValidGitlabToken,
  parseWebhookPush,
  toRefPushed,
  type CreatedExternalRepository,
  type CreateExternalRepositoryInput,
  type ExternalRepository,
  type Provider,
  type WebhookOutcome,
} from './model.js';
import * as q from './store.js';

/** A webhook request as received: the headers that matter and the raw body the signature covers. */
export interface WebhookDelivery {
  event: string | undefined;
  /** GitHub's `X-Hub-Signature-256`. */
  signature: string | undefined;
  /** GitLab's `X-Gitlab-Token`. */
  token: string | undefined;
  /** `X-GitHub-Delivery` / `X-Gitlab-Event-UUID`, recorded with the push. */
  deliveryId: string | undefined;
  body: Buffer;
}

/** How the runner reaches a run's source: a URL, and what git needs in its environment (never in argv). */
export interface CheckoutSource {
  source: string;
  env: Record<string, string>;
  /** Values masked in the run's log (the token). */
  maskValues: string[];
}

/** Repositories hosted elsewhere whose push webhooks start pipeline runs. */
export interface ExternalRepositories {
  /** Registers a repository; the webhook secret is in the answer this once. */
  register(principal: Principal, input: CreateExternalRepositoryInput): Promise<CreatedExternalRepository>;
  list(principal: Principal, query: { ownerRef?: string; limit: number }): Promise<ExternalRepository[]>;
  get(principal: Principal, name: string): Promise<ExternalRepository>;
  /** Forgets the repository and its credentials; its runs stay. */
  remove(principal: Principal, name: string): Promise<void>;
  /** Verifies and records a push webhook, creating the run (idempotent per repository, ref, before and after). */
  receive(provider: Provider, id: string, delivery: WebhookDelivery): Promise<WebhookOutcome>;
  /** Where a run of `external/<name>` clones from; `problem` when the repository is gone. */
  checkoutSource(repository: string): Promise<CheckoutSource | { problem: string }>;
}

export const EXTERNAL_PUSH_RECEIVED = 'pipelines.external-push.received';
const WEBHOOK_ACTOR = 'system:webhooks';
const sealedToken = (id: string) => `token:${id}`;
const sealedSecret = (id: string) => `webhook:${id}`;

// Answers git's credential prompts from the environment of the one clone it serves: the token is in
// neither argv (readable by every user in /proc) nor the URL (which git prints in its messages).
export const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$PLINTH_GIT_USERNAME" ;;
  *) printf '%s\\n' "$PLINTH_GIT_PASSWORD" ;;
esac
`;

export function createExternalRepositories(
  kernel: Kernel,
  deps: { git: Pick<Git, 'getRepository'>; createRun: (push: RefPushedPayload, db: Tx) => Promise<{ id: string } | undefined> },
): ExternalRepositories {
  const { store, ledger, clock, config } = kernel;
  let key: Promise<CredentialKey> | undefined;
  const credentialKey = () => (key ??= loadCredentialKey(config.dataDir, config.resources.secretsKey));
  let askpass: Promise<string> | undefined;
  const askpassScript = () =>
    (askpass ??= (async () => {
      const dir = join(config.dataDir, 'pipelines');
      const file = join(dir, 'git-askpass.sh');
      await mkdir(dir, { recursive: true });
      await writeFile(file, ASKPASS, { mode: 0o700 });
      await chmod(file, 0o700);
      return file;
    })());

  const manageable = async (principal: Principal, name: string) => {
    authorize(principal, externalPermissions.read);
    const repo = await q.selectByName(store, name);
    authorize(principal, externalPermissions.manage, { type: 'external repository', id: name, ownerRef: repo.ownerRef });
    return repo;
  };

  return {
    async register(principal, input) {
      authorize(principal, externalPermissions.manage, { type: 'external repository', id: input.name, ownerRef: input.ownerRef });
      // file:// reads the server's own disk: only those who administer the platform point at it.
      if (input.cloneUrl.startsWith('file:') && !(principal.kind === 'system' || principal.role === 'platform-admin')) {
        throw new NotAllowedError('cloneUrl: file:// URLs read the platform server’s disk and are reserved to platform admins; use https://');
      }
      // Runs are named external/<name>: a hosted repository of an owner called "external" would share them.
      const hosted = await deps.git.getRepository({ kind: 'system', name: 'pipelines' }, EXTERNAL_OWNER, input.name).then(() => true, (err: unknown) => (err instanceof NotFoundError ? false : Promise.reject(err)));
      if (hosted) throw new ConflictError(`name: the hosted repository ${EXTERNAL_OWNER}/${input.name} exists, and runs of both would share a name; pick another name`);
      const id = newId();
      const webhookSecret = newSecret(32);
      const k = await credentialKey();
      const row: q.ExternalRow = {
        id, name: input.name, owner_ref: input.ownerRef, clone_url: input.cloneUrl, default_branch: input.defaultBranch, provider: input.provider,
        username: input.credentials?.username ?? null,
        token_sealed: input.credentials ? seal(k, input.credentials.token, sealedToken(id)) : null,
        webhook_secret_sealed: seal(k, webhookSecret, sealedSecret(id)),
        created_by: principalRef(principal), created_at: toIso(clock.now()),
      };
      const created = await store.transaction(async (tx) => {
        if (!(await q.insertRepository(tx, row))) return false;
        await ledger.append({ kind: 'pipelines.external-repository.registered', subjects: [`repository:${EXTERNAL_OWNER}/${input.name}`, input.ownerRef], actor: principalRef(principal), payload: { id, name: input.name, cloneUrl: input.cloneUrl, provider: input.provider } }, { db: tx });
        return true;
      });
      if (!created) throw new ConflictError(`an external repository named ${input.name} exists already; pick another name or remove it first`);
      return { repository: q.toView((await q.findById(store, id))!), webhookSecret };
    },

    async list(principal, query) {
      authorize(principal, externalPermissions.read);
      return (await q.selectRepositories(store, query)).map(q.toView);
    },

    async get(principal, name) {
      authorize(principal, externalPermissions.read);
      return q.toView(await q.selectByName(store, name));
    },

    async remove(principal, name) {
      const repo = await manageable(principal, name);
      await store.transaction(async (tx) => {
        await q.deleteRepository(tx, repo.id);
        await ledger.append({ kind: 'pipelines.external-repository.removed', subjects: [`repository:${repo.repository}`, repo.ownerRef], actor: principalRef(principal), payload: { id: repo.id, name } }, { db: tx });
      });
    },

    async receive(provider, id, delivery) {
      const repo = await q.findById(store, id);
      if (!repo || repo.provider !== provider) throw new NotFoundError(`no ${provider} webhook ${id}; use the webhookPath shown when the repository was registered`);
      const secret = unseal(await credentialKey(), repo.webhookSecretSealed, sealedSecret(repo.id));
      const valid = provider === 'github' ? isValidGithubSignature(secret, delivery.body, delivery.signature) : isValidGitlabToken(secret, delivery.token);
      if (!valid) {
        throw new AuthenticationError(provider === 'github' ? 'X-Hub-Signature-256 is missing or does not match the body; configure the webhook with the secret shown at registration' : 'X-Gitlab-Token is missing or wrong; configure the webhook with the secret token shown at registration');
      }
      const event = classifyEvent(provider, delivery.event);
      if (event === 'ping') return { status: 'pong' };
      if (event === 'other') return { status: 'ignored', reason: `event "${delivery.event ?? '(none)'}" is not a push; only push events start runs` };
      let json: unknown;
      try {
        json = JSON.parse(delivery.body.toString('utf8'));
      } catch (err) {
        throw new InputError(`body: malformed JSON: ${(err as Error).message}`);
      }
      const parsed = parseWebhookPush(json);
      if (!parsed.ok) throw new InputError(parsed.problem);
      const push = toRefPushed(repo, parsed.push, (delivery.deliveryId ?? newId()).slice(0, 200));
      const key = { repositoryId: repo.id, ref: parsed.push.ref, before: parsed.push.before, after: parsed.push.after };
      return store.transaction(async (tx): Promise<WebhookOutcome> => {
        const fresh = await q.insertDelivery(tx, { repository_id: repo.id, ref: key.ref, before_sha: key.before, after_sha: key.after, delivery_id: push.pushId, run_id: null, received_at: toIso(clock.now()) });
        if (!fresh) return { status: 'duplicate', runId: await q.findDeliveryRun(tx, key) };
        await ledger.append({ kind: EXTERNAL_PUSH_RECEIVED, subjects: [`repository:${repo.repository}`, repo.ownerRef], actor: WEBHOOK_ACTOR, payload: { ...push } }, { db: tx });
        if (push.newSha === null) return { status: 'accepted', runId: null, reason: 'the branch was deleted; nothing to run' };
        if (!push.ref.startsWith('refs/heads/')) return { status: 'accepted', runId: null, reason: 'only branch pushes start runs' };
        const run = await deps.createRun(push, tx);
        if (run) await q.setDeliveryRun(tx, key, run.id);
        return { status: 'accepted', runId: run?.id ?? null };
      });
    },

    async checkoutSource(repository): Promise<CheckoutSource | { problem: string }> {
      const name = repository.slice(EXTERNAL_OWNER.length + 1);
      const repo = await q.findByName(store, name);
      if (!repo) return { problem: `external repository ${name} is no longer registered; register it again to run its pipelines` };
      if (repo.tokenSealed === null) return { source: repo.cloneUrl, env: {}, maskValues: [] };
      const token = unseal(await credentialKey(), repo.tokenSealed, sealedToken(repo.id));
      return { source: repo.cloneUrl, env: { GIT_ASKPASS: await askpassScript(), PLINTH_GIT_USERNAME: repo.username ?? 'git', PLINTH_GIT_PASSWORD: token }, maskValues: [token] };
    },
  };
}
