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
 * Credential rotation for a provider whose credentials live on a server: new values are generated,
 * stored as a new secret version, set on the server (`apply`), and after the grace period the old
 * ones end (`revoke`). Every method is idempotent: it works from the current stored version.
 */
export interface ProviderRotation {
  /** New credentials (every key of the claim's secret, the password and the URL holding it). */
  generate(ctx: ProvisionContext): Record<string, string> | Promise<Record<string, string>>;
  /** Makes the current stored password work on the server; where the server keeps two passwords, the old one keeps working. */
  apply(ctx: ProvisionContext): Promise<void>;
  /** Ends the old credentials: a second password is removed, sessions opened before `rotatedAt` are closed. */
  revoke(ctx: ProvisionContext, rotatedAt: Date): Promise<{ closedSessions: number }>;
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
  /** Loads a backup taken by `backup` into the claim's resource (replacing what it holds); absent when the provider cannot restore. */
  restore?(ctx: ProvisionContext, file: string): Promise<void>;
  rotation?: ProviderRotation;
  /** Problems with a claim's inputs the module's JSON Schema cannot express (checked at plan: 400, nothing created). */
  checkInputs?(claim: { name: string; environment: string; inputs: Record<string, unknown> }): string[];
  /** Whether the credentials must be renewed by `at` (a certificate close to its expiry); the scheduler then rotates them. */
  renewalDue?(ctx: ProvisionContext, at: Date): Promise<boolean>;
  /**
   * The objects on the server named like a claim's (`pl_…`), each with the claim identifier it would
   * belong to (PhysicalNames.identifier or natsStream): what the orphan report compares with the claims.
   */
  inventory?(): Promise<{ kind: string; name: string }[]>;
  /** Removes everything apply created on the server; idempotent. */
  destroy(ctx: ProvisionContext): Promise<void>;
  close(): Promise<void>;
}

/** Errors the provider knows are terminal (bad inputs the schema could not catch); everything else is retried. */
export class TerminalProvisioningError extends Error {
  override readonly name = 'TerminalProvisioningError';
}
