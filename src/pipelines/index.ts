/** Pipelines: the standard pipeline, runs on every push, the embedded runner, logs and test results. */
export { createPipelines, RUN_JOB, type Pipelines, type PipelinesOptions, type PlatformStepHandler, type PlatformStepContext, type PlatformStepResult } from './service.js';
export { pipelinesRoutes } from './routes.js';
export { pipelinesMigrations } from './migrations.js';
/** Repositories hosted elsewhere whose GitHub- or GitLab-style push webhooks start runs of `external/<name>`. */
export { isExternalRepositoryName, type ExternalRepositories, type ExternalRepository, type CreatedExternalRepository } from './external/index.js';
export { STANDARD_PIPELINE_VERSION, standardPipeline, stageNames, runStatuses, stepStatuses } from './model/index.js';
export type { BuildArtifact, Run, RunDetail, Step, LogLine, RecordedTest, RunStatus, StepStatus, StageStatus, StageName, PipelineEventPayloads } from './model/index.js';
export { readTar, type ReadTarEntry } from './artifacts/tar.js';
export { packWorkspace, type PackedArtifact } from './artifacts/pack.js';
export { createBuildArtifactStep } from './artifacts/step.js';
export { runRunnerAgent, RunnerHttpError, type RunnerAgentOptions } from './runner/agent.js';
export { RUNNER_LABEL } from './model/index.js';
