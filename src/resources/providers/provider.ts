import type { Claim, PhysicalNames } from '../model/claim.js';
import type { ProviderName } from '../model/module.js';
import type { Secrets } from '../secrets/service.js';

/** What a provider step works on: the claim, the names derived from it, and the secret store. */
export interface ProvisionContext {
  claim: Claim;
  names: PhysicalNames;
  secrets: Pick<Secrets, 'ensureClaimSecret'>;
}

/**
 * One step of an apply. Every step is idempotent and absolute ("role X exists with password P"),
 * so a step re-run after a crash at any line finds its work done or finishes it.
 */
export interface ProviderStep {
  name: string;
  run(ctx: ProvisionContext): Promise<void>;
}

export interface Provider {
  name: ProviderName;
  /** Why the provider's server cannot be used right now; undefined when it can. */
  unavailable(): Promise<string | undefined>;
  steps: readonly ProviderStep[];
  /** Output values once every step is done; credentials as secret refs, never values. */
  outputs(ctx: ProvisionContext): Promise<Record<string, string>>;
  /** Differences between the claim and the server (empty when none). */
  observe(ctx: ProvisionContext): Promise<string[]>;
  /** A final backup into `file`; undefined when the provider has nothing to back up. */
  backup(ctx: ProvisionContext, file: string): Promise<{ path: string; bytes: number } | undefined>;
  /** Removes everything apply created on the server; idempotent. */
  destroy(ctx: ProvisionContext): Promise<void>;
  close(): Promise<void>;
}

/** Errors the provider knows are terminal (bad inputs the schema could not catch); everything else is retried. */
export class TerminalProvisioningError extends Error {
  override readonly name = 'TerminalProvisioningError';
}
