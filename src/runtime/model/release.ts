import type { WorkloadSpec } from './workload.js';

/**
 * - starting: replicas are being started and probed
 * - ready: every replica passed readiness; the release can take traffic
 * - failed: it never became ready (stable releases are untouched)
 * - stopping / stopped: drained on request
 */
export const releasePhases = ['starting', 'ready', 'failed', 'stopping', 'stopped'] as const;
export type ReleasePhase = (typeof releasePhases)[number];

export function isTerminalPhase(phase: ReleasePhase): boolean {
  return phase === 'failed' || phase === 'stopped';
}

/** A release: one immutable spec (artifact + config) and the phase it is in. */
export interface Release {
  id: string;
  service: string;
  environment: string;
  version: string;
  spec: WorkloadSpec;
  phase: ReleasePhase;
  /** Why it failed or stopped. */
  message: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** Ledger payloads of the runtime layer's events (`runtime.release.<verb>`). */
export interface RuntimeEventPayloads {
  'runtime.release.started': { releaseId: string; service: string; environment: string; version: string; artifactDigest: string; replicas: number };
  'runtime.release.ready': { releaseId: string; service: string; environment: string; version: string; readyMs: number };
  'runtime.release.failed': { releaseId: string; service: string; environment: string; version: string; reason: string };
  'runtime.release.stopped': { releaseId: string; service: string; environment: string; version: string; reason: string };
  'runtime.traffic.changed': { service: string; environment: string; stable: string; canary: string | null; canaryWeightPercent: number };
}
