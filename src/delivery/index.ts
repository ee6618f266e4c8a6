/** Progressive delivery: environments, rollouts (canary with statistical analysis, blue/green, direct), gates, webhooks. */
import type { Kernel } from '../kernel/index.js';
import { createDelivery as createDeliveryService, type Delivery, type DeliveryDeps } from './service.js';

export type { Delivery, DeliveryDeps } from './service.js';
export { PREVIEW_SWEEP_JOB } from './service.js';
export { deliveryRoutes } from './routes.js';
export { deliveryMigrations } from './migrations.js';
export { createDeliverySteps, type DeliverySteps, type DeliveryStepsDeps } from './pipeline-steps.js';
/** Pure canary analysis (the judge) and the model types clients read. */
export {
  AnalysisConfig, analyseCanary, MAX_ANALYSES_PER_ROLLOUT, fisherExactGreater, mannWhitneyGreater, histogramQuantile, RolloutStrategy, StartRolloutInput, builtinEnvironments, COST_CENTER_ANNOTATION, previewEnvironmentName, rolloutPhases, isTerminalRollout,
  type AnalysisRecord, type AnalysisResult, type Environment, type RolloutView, type RolloutPhase, type RolloutCommand, type RolloutStrategyInput, type WebhookView, type DeliveryEventPayloads,
} from './model/index.js';

/** The delivery layer as the app wires it: rollouts drive the runtime's traffic split; smoke tests go through its gateway. */
export function createDelivery(kernel: Kernel, deps: DeliveryDeps): Delivery {
  return createDeliveryService(kernel, deps);
}
