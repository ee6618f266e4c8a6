/** Runtime: workload specs and Score, Kubernetes-shaped manifests, the local process driver and the gateway. */
import { join } from 'node:path';
import { createKubernetesDriver } from './driver/kubernetes.js';
import type { Kernel } from '../kernel/index.js';
import { createLocalDriver, type LocalDriverOptions } from './driver/local.js';
import { createGateway } from './gateway/gateway.js';
import { createRuntime, type DeployAdmission, type Runtime, type SecretSource } from './service.js';
import { recordProcess } from './store.js';

export { createRuntime, type Runtime, type DeployInput, type SecretSource, type DeployAdmission } from './service.js';
export { runtimeMigrations } from './migrations.js';
export { runtimeRoutes } from './routes.js';
export { createKubernetesDriver, deploymentForCluster, renderEnvSecret, type KubernetesDriverOptions } from './driver/kubernetes.js';
export { createLocalDriver, ReleaseStartError, type RuntimeDriver, type Endpoint, type LocalDriverOptions } from './driver/local.js';
export { createGateway, type Gateway, type GatewayOptions, type EndpointSource } from './gateway/gateway.js';
export { digestArtifact, digestDirectory, verifyDigest, type ArtifactVerifier } from './driver/artifact.js';
export type { LogLine, LogQuery } from './driver/logs.js';
export type { ReplicaStatus, ReplicaPhase } from './driver/replica.js';
export type { ReleaseTrafficStats, StatusClass } from './gateway/stats.js';
export {
  WorkloadSpec, TrafficSplit, parseWorkloadSpec, parseScore, scoreToWorkload, scoreFileSources, routePathProblem, renderManifests, renderDeployment, renderService, renderHttpRoute, gatewayHost,
  releasePhases, isTerminalPhase,
  type WorkloadSpecInput, type ScoreWorkload, type ScoreConversion, type JsonManifest, type Release, type ReleasePhase, type RuntimeEventPayloads,
} from './model/index.js';

export interface RuntimeOptions {
  secrets?: SecretSource;
  admit?: DeployAdmission;
  driver?: Partial<Pick<LocalDriverOptions, 'verifyArtifact' | 'restart' | 'baseEnv' | 'prlimit' | 'tailLines' | 'volumeRoot' | 'bwrap'>>;
}

/**
 * The runtime layer as the app wires it: the local driver under `<dataDir>/runtime` (or, with a
 * kubeconfig, the Kubernetes driver), the gateway on the configured port.
 */
export async function createRuntimeLayer(kernel: Kernel, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = kernel.logger.child({ layer: 'runtime' });
  const kubeconfig = kernel.config.kubeconfig;
  if (kubeconfig !== undefined) {
    log.info({ kubeconfig }, 'releases run in the Kubernetes cluster of the kubeconfig');
    const driver = await createKubernetesDriver({ kubeconfig, verifyArtifact: options.driver?.verifyArtifact, baseDomain: kernel.config.baseDomain });
    const gateway = createGateway({ host: '127.0.0.1', port: kernel.config.gatewayPort, endpoints: driver, registry: kernel.metrics.registry, baseDomain: kernel.config.baseDomain });
    return createRuntime(kernel, { driver, gateway, secrets: options.secrets, admit: options.admit });
  }
  const driver = createLocalDriver({
    dataDir: join(kernel.config.dataDir, 'runtime'),
    prlimit: '/usr/bin/prlimit',
    // Where the resources layer's `volume` claims make their directories; replicas may mount only those.
    volumeRoot: join(kernel.config.dataDir, 'volumes'),
    ...options.driver,
    onSpawn: (releaseId, replica, pid, port) => {
      recordProcess(kernel.store, { releaseId, replica, pid, port, startedAt: new Date().toISOString() }).catch((err: unknown) => log.error({ err, releaseId }, 'could not record a replica process'));
    },
  });
  const gateway = createGateway({ host: '127.0.0.1', port: kernel.config.gatewayPort, endpoints: driver, registry: kernel.metrics.registry, baseDomain: kernel.config.baseDomain });
  return createRuntime(kernel, { driver, gateway, secrets: options.secrets, admit: options.admit });
}
