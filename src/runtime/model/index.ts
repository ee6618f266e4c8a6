export { WorkloadSpec, WorkloadFile, WorkloadVolume, WorkloadRoute, SECRET_PLACEHOLDER, Probe, Artifact, parseWorkloadSpec, quantityToBytes, quantityToMillicores, gatewayHost, DEFAULT_BASE_DOMAIN, type WorkloadSpecInput } from './workload.js';
export { renderManifests, renderDeployment, renderService, renderHttpRoute, renderRouteHttpRoutes, renderFilesConfigMap, workloadName, versionSlug, GATEWAY_NAME, type JsonManifest } from './manifests.js';
export { parseScore, scoreToWorkload, scoreFileSources, resolvePlaceholders, type ScoreWorkload, type ScoreConversion } from './score.js';
export { TrafficSplit, pickWeighted, createWeightedPicker, parseCanaryOverride, preselectRelease, type WeightedTarget, type CanaryOverride } from './traffic.js';
export { releasePhases, isTerminalPhase, type ReleasePhase, type Release, type RuntimeEventPayloads } from './release.js';
export { compileRoutePath, routePathProblem, type RoutePathMatcher } from './route-path.js';
