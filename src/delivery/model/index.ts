export { AnalysisConfig, analyseCanary, windowBetween, type AnalysisCheck, type AnalysisResult, type CounterSnapshot, type TrafficWindow } from './analysis.js';
export { binomialGreater, fisherExactGreater, histogramCountAbove, histogramQuantile, mannWhitneyGreater, normalCdf, logGamma } from './statistics.js';
export {
  CanaryStep, CreateEnvironmentInput, Environment, PreviewOf, RolloutStrategy, RolloutView, SmokeTest, StartRolloutInput, UpdateEnvironmentInput, WebhookInput, WebhookView,
  builtinEnvironments, COST_CENTER_ANNOTATION, decideCanaryStep, previewEnvironmentName, defaultCanarySteps, isTerminalRollout, rolloutCommands, rolloutPhases, toRolloutView,
  type Rollout, type RolloutCommand, type RolloutPhase, type RolloutStatus, type RolloutStrategyInput, type StepDecision,
} from './rollout.js';
export { notifiedEvents, type DeliveryEventKind, type DeliveryEventPayloads, type RolloutEventBase } from './events.js';
export { AnalysesQuery, AnalysisRecord, MAX_ANALYSES_PER_ROLLOUT, thinnedAnalyses, toAnalysisRecord } from './history.js';
