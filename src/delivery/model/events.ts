/** Ledger payloads of the delivery layer (`delivery.rollout.<verb>`); DORA reads these. Subjects: `service:default/<svc>`, `environment:<env>`, `rollout:<id>`. */
export interface RolloutEventBase {
  rolloutId: string;
  service: string;
  environment: string;
  version: string;
  artifactDigest: string;
  commit: string | null;
  releaseId: string;
}

export interface DeliveryEventPayloads {
  'delivery.rollout.started': RolloutEventBase & { previousReleaseId: string | null; strategy: string };
  'delivery.rollout.stepped': RolloutEventBase & { stepIndex: number; weightPercent: number };
  'delivery.rollout.approved': RolloutEventBase & { stepIndex: number; approvedBy: string };
  'delivery.rollout.paused': RolloutEventBase;
  'delivery.rollout.resumed': RolloutEventBase;
  'delivery.rollout.promoted': RolloutEventBase & { previousReleaseId: string | null; durationMs: number; manual: boolean };
  'delivery.rollout.rolled-back': RolloutEventBase & { previousReleaseId: string | null; reason: string; automatic: boolean };
  'delivery.rollout.failed': RolloutEventBase & { reason: string };
  /** Subjects: `environment:<env>`, `repository:<owner/name>`. */
  'delivery.preview.created': { environment: string; repository: string; branch: string; expiresAt: string };
  'delivery.preview.removed': { environment: string; reason: string };
}
export type DeliveryEventKind = keyof DeliveryEventPayloads;

/** Which events are sent to a service's webhooks. */
export const notifiedEvents: readonly DeliveryEventKind[] = ['delivery.rollout.started', 'delivery.rollout.stepped', 'delivery.rollout.promoted', 'delivery.rollout.rolled-back', 'delivery.rollout.failed'];
