/**
 * Master-key rotation without downtime (issue 8). A re-wrap run moves every secret version still on a
 * previous master key to the current one, batch by batch, each batch one transaction that also advances
 * the run's record. A version is only ever replaced whole (key id and wrapped key in one row update), so
 * a crash at any line leaves each version on its old or its new key, both in the keyring; the job resumes
 * from the record's cursor. Reads and writes go on meanwhile: new versions are sealed with the current key.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { authorize, ConflictError, isTerminal, principalRef, toIso, type ClaimedJob, type JobContext, type JobOutcome, type Kernel, type Permission, type Principal } from '../../kernel/index.js';
import * as q from '../store/index.js';
import { rewrap, type Keyring } from './crypto.js';
import { addCounts, REWRAP_JOB, RewrapJobPayload, sumCounts, type RewrapBody, type RewrapStarted, type SecretKeysView, type SecretRewrap } from './model.js';

export const keyPermissions = {
  administer: { name: 'administer the secret store’s master keys', verb: 'admin' },
} satisfies Record<string, Permission>;

export interface KeyRotation {
  register(): void;
  /** Starts a re-wrap run onto the current key, or returns the one still going. */
  startRewrap(principal: Principal, input: RewrapBody): Promise<RewrapStarted>;
  status(principal: Principal): Promise<SecretKeysView>;
}

const aad = (name: string, version: number) => `secret:${name}:v${version}`;

/** What one batch changes: re-wrapped data keys to put in place, and versions left as they are. */
function rewrapBatch(ring: Keyring, rows: readonly q.WrappedVersion[]): { updates: { read: q.WrappedVersion; next: { keyId: string; wrappedKey: string } }[]; skipped: Record<string, number> } {
  const updates: { read: q.WrappedVersion; next: { keyId: string; wrappedKey: string } }[] = [];
  const skipped: Record<string, number> = {};
  for (const row of rows) {
    try {
      updates.push({ read: row, next: rewrap(ring, row, aad(row.name, row.version)) });
    } catch {
      // Its key is not in the ring, or its data key does not unwrap: counted, and left as it is for a
      // later run with that key (the run goes on; one bad version must not stall the rotation).
      skipped[row.keyId] = (skipped[row.keyId] ?? 0) + 1;
    }
  }
  return { updates, skipped };
}

export function createKeyRotation(kernel: Kernel, keyring: () => Keyring): KeyRotation {
  const { store, clock, ledger, jobs, logger } = kernel;
  const log = logger.child({ layer: 'resources', part: 'secret-keys' });

  /** Re-wraps one batch after the run's cursor and records it; undefined when nothing is left. */
  async function step(ring: Keyring, run: SecretRewrap): Promise<SecretRewrap | undefined> {
    const rows = await q.selectVersionsAfter(store, { after: run.cursor, notKeyId: ring.current.id, limit: run.batchSize });
    if (rows.length === 0) return undefined;
    const batch = rewrapBatch(ring, rows);
    const last = rows[rows.length - 1]!;
    return store.transaction(async (tx) => {
      const rewrapped: Record<string, number> = {};
      for (const u of batch.updates) {
        // False: deleted or re-wrapped by another run meanwhile; nothing to count.
        if (await q.replaceWrappedKey(tx, u.read, u.next)) rewrapped[u.read.keyId] = (rewrapped[u.read.keyId] ?? 0) + 1;
      }
      const next = { cursor: { name: last.name, version: last.version }, rewrapped: addCounts(run.rewrapped, rewrapped), skipped: addCounts(run.skipped, batch.skipped), updatedAt: toIso(clock.now()) };
      // Another worker took the run over (a lost lease): roll this batch back, it redoes it.
      if (!(await q.advanceRewrap(tx, run.jobId, run.batches, next))) throw new ConflictError(`re-wrap ${run.jobId} advanced elsewhere; this batch is rolled back`);
      return { ...run, ...next, batches: run.batches + 1 };
    });
  }

  async function runRewrap(job: ClaimedJob, ctx: JobContext): Promise<JobOutcome> {
    const payload = RewrapJobPayload.safeParse(job.payload);
    if (!payload.success) return { kind: 'fail', reason: `job payload is not a re-wrap request: ${payload.error.message}` };
    const ring = keyring();
    // Replicas restarted one by one may disagree for a while; the run waits for one holding its target key.
    if (ring.current.id !== payload.data.toKeyId) return { kind: 'retry', error: new Error(`this server's current master key is ${ring.current.id}, but the re-wrap targets ${payload.data.toKeyId}; restart it with the same keys`) };
    let run = await q.selectRewrap(store, job.id);
    if (!run) return { kind: 'fail', reason: `no re-wrap record for job ${job.id}` };
    while (run.phase === 'running') {
      if (ctx.signal.aborted) return { kind: 'retry', error: new Error('interrupted; the re-wrap resumes from its last batch') };
      const advanced = await step(ring, run);
      if (!advanced) break;
      run = advanced;
      await ctx.progress(`batch ${run.batches}: ${sumCounts(run.rewrapped)} re-wrapped, ${sumCounts(run.skipped)} skipped`, { rewrapped: run.rewrapped, skipped: run.skipped });
      // SQLite answers synchronously: without a turn of the event loop between batches, requests
      // would wait for the whole run (downtime in all but name).
      await yieldToEventLoop();
    }
    const remaining = (await q.countVersionsByKey(store)).filter((c) => c.keyId !== ring.current.id);
    const summary = { jobId: job.id, toKeyId: run.toKeyId, fromKeyIds: Object.keys(run.rewrapped).sort(), rewrapped: run.rewrapped, skipped: run.skipped, batches: run.batches, remaining: Object.fromEntries(remaining.map((c) => [c.keyId, c.count])) };
    if (sumCounts(run.skipped) > 0) log.warn({ skipped: run.skipped, toKeyId: run.toKeyId }, 'some secret versions could not be re-wrapped (their master key is not in the keyring, or their data key does not unwrap)');
    const finished = run;
    return {
      kind: 'done',
      output: summary,
      commit: async (tx) => {
        if (!(await q.finishRewrap(tx, finished.jobId, toIso(clock.now())))) return;
        await ledger.append({ kind: 'resources.secrets.rewrapped', subjects: [`master-key:${finished.toKeyId}`], actor: finished.createdBy, payload: summary }, { db: tx });
      },
    };
  }

  return {
    register() {
      jobs.register(REWRAP_JOB, runRewrap);
    },

    async startRewrap(principal, input) {
      authorize(principal, keyPermissions.administer);
      const toKeyId = keyring().current.id;
      const latest = await q.latestRewrap(store);
      if (latest && latest.phase === 'running' && !isTerminal((await jobs.get(latest.jobId)).state)) return { jobId: latest.jobId, toKeyId: latest.toKeyId, created: false };
      const at = toIso(clock.now());
      // Keyed by the run it follows: two requests racing here start one run, and the second gets it.
      const { job, created } = await store.transaction(async (tx) => {
        const enqueued = await jobs.enqueue({ kind: REWRAP_JOB, payload: { toKeyId }, idempotencyKey: `${REWRAP_JOB}:after:${latest?.jobId ?? 'none'}`, maxAttempts: 50 }, { db: tx });
        if (enqueued.created) await q.insertRewrap(tx, { jobId: enqueued.job.id, toKeyId, phase: 'running', batchSize: input.batchSize, batches: 0, cursor: null, rewrapped: {}, skipped: {}, createdBy: principalRef(principal), createdAt: at, updatedAt: at, finishedAt: null });
        return enqueued;
      });
      if (created) log.info({ jobId: job.id, toKeyId }, 'secret re-wrap started');
      return { jobId: job.id, toKeyId: RewrapJobPayload.parse(job.payload).toKeyId, created };
    },

    async status(principal) {
      authorize(principal, keyPermissions.administer);
      const ring = keyring();
      const previousKeyIds = ring.previous.map((k) => k.id);
      const latest = await q.latestRewrap(store);
      return {
        currentKeyId: ring.current.id,
        previousKeyIds,
        versions: (await q.countVersionsByKey(store)).map((c) => ({ keyId: c.keyId, count: c.count, state: c.keyId === ring.current.id ? 'current' : previousKeyIds.includes(c.keyId) ? 'previous' : 'unknown' })),
        lastRewrap: latest ? { jobId: latest.jobId, jobState: (await jobs.get(latest.jobId)).state, toKeyId: latest.toKeyId, phase: latest.phase, batches: latest.batches, rewrapped: latest.rewrapped, skipped: latest.skipped, createdBy: latest.createdBy, createdAt: latest.createdAt, finishedAt: latest.finishedAt } : null,
      };
    },
  };
}
