import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogMigrations, catalogRoutes, createCatalog, fetchUrlText, type Catalog, type CatalogOptions } from './catalog/index.js';
import { createDocs, docsRoutes } from './docs/index.js';
import { contentsLocationOf, createGit, gitHttpRoutes, gitMigrations, gitRoutes, type Git, type GitOptions } from './git/index.js';
import { createScaffolder, registerBuiltinTemplates, scaffolderMigrations, scaffolderRoutes, type Scaffolder } from './scaffolder/index.js';
import { createPipelines, pipelinesMigrations, pipelinesRoutes, type Pipelines, type PipelinesOptions } from './pipelines/index.js';
import { ciGateAdmission, createPolicy, deployAdmission, policyMigrations, policyRoutes, provisioningAdmission, type JsonObject, type Policy } from './policy/index.js';
import { createResources, resourcesMigrations, resourcesRoutes, type Resources } from './resources/index.js';
import { createSearch, searchRoutes, type Search } from './search/index.js';
import { createFindings, createSecurity, createSupplyChain, findingsRoutes, createSupplyChainSteps, sastScanStep, secretsScanStep, securityMigrations, securityRoutes, signingKeysRoutes, supplyChainRoutes, type Findings, type Security, type SlaDays, type SupplyChain, type SupplyChainOptions } from './security/index.js';
import { createRuntimeLayer, runtimeMigrations, runtimeRoutes, verifyDigest, type ArtifactVerifier, type Runtime, type RuntimeOptions } from './runtime/index.js';
import { createDelivery, createDeliverySteps, deliveryMigrations, deliveryRoutes, type Delivery } from './delivery/index.js';
import { createKernel, type Clock, type Config, type Kernel, type Logger, type Server } from './kernel/index.js';

/** The composition root: kernel first, then each layer in dependency order (DESIGN.md). */
export interface App {
  server: Server;
  kernel: Kernel;
  catalog: Catalog;
  search: Search;
  git: Git;
  scaffolder: Scaffolder;
  pipelines: Pipelines;
  runtime: Runtime;
  delivery: Delivery;
  policy: Policy;
  security: Security;
  supplyChain: SupplyChain;
  findings: Findings;
  resources: Resources;
  /** Migrates, creates the first admin if needed, starts workers. */
  start(): Promise<{ admin?: { username: string; password: string; generated: boolean } }>;
  /** Listens on the configured host and port; returns the base URL. */
  listen(): Promise<string>;
  /** Settles once the golden-path templates (templates/) registered by listen() are in the catalog. */
  templatesReady(): Promise<void>;
  /** Stops accepting requests, drains in-flight ones and jobs, closes the store. */
  stop(): Promise<void>;
}

/** The folder holding package.json, from src/ or from dist/src/. */
export const packageRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
})();

export const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** Every layer's migrations, in dependency order (the kernel's own run first). */
export const layerMigrations = [...catalogMigrations, ...gitMigrations, ...scaffolderMigrations, ...pipelinesMigrations, ...runtimeMigrations, ...policyMigrations, ...securityMigrations, ...resourcesMigrations, ...deliveryMigrations];

/** How long after listening the first start begins loading the demo organisation. */
const DEMO_DELAY_MS = 500;

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  catalog?: CatalogOptions;
  git?: GitOptions;
  pipelines?: PipelinesOptions;
  runtime?: RuntimeOptions;
  /** Signing: key passphrase and builder id (serve passes PLINTH_SIGNING_KEY_PASSPHRASE). */
  security?: Omit<SupplyChainOptions, 'version'>;
  /** Days to fix a tracked finding, by severity (null: no due date); defaults critical 7, high 30. */
  findingSlaDays?: Partial<SlaDays>;
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const kernel = await createKernel(config, { clock: options.clock, logger: options.logger, version, webDir: join(packageRoot, 'web', 'dist') });
  const { server } = kernel;
  const examplesDir = join(packageRoot, 'examples');
  const templatesDir = join(packageRoot, 'templates');
  // Catalog url locations on this server's own hosted git (what the scaffolder registers for a new
  // repository) are read through the git service, not over HTTP with credentials the catalog lacks.
  const hostedGit: { current?: Git } = {};
  const fetchElsewhere = options.catalog?.fetchUrl ?? fetchUrlText;
  const fetchUrl: NonNullable<CatalogOptions['fetchUrl']> = async (url, limits) => {
    const git = hostedGit.current;
    const hosted = git && ownUrl(url) ? contentsLocationOf(new URL(url).pathname) : undefined;
    if (!git || !hosted) return fetchElsewhere(url, limits);
    const file = await git.readFile({ kind: 'system', name: 'catalog' }, hosted, { maxBytes: limits.maxBytes });
    return file.content.toString('utf8');
  };
  const ownUrl = (url: string) => {
    const address = server.server.address();
    const { hostname, port, protocol } = new URL(url);
    return protocol === 'http:' && typeof address === 'object' && address !== null && port === String(address.port) && ['127.0.0.1', 'localhost', config.host].includes(hostname);
  };
  const catalog = createCatalog(kernel, { ...options.catalog, extraFileRoots: [examplesDir, templatesDir, ...(options.catalog?.extraFileRoots ?? [])], fetchUrl });

  await kernel.registerRoutes();
  const docs = createDocs({ logger: kernel.logger.child({ layer: 'docs' }) });
  await server.register(catalogRoutes(catalog), { prefix: '/api/catalog' });
  const search = createSearch({ kernel, catalog, docs });
  await server.register(docsRoutes({ catalog, docs }), { prefix: '/api/docs' });
  await server.register(searchRoutes(search), { prefix: '/api/search' });
  const git = createGit(kernel, { catalog, options: options.git });
  hostedGit.current = git;
  await server.register(gitRoutes(git), { prefix: '/api/git' });
  await server.register(gitHttpRoutes(git), { prefix: '/git' });
  const scaffolder = createScaffolder(kernel, { catalog, git });
  // A Template with an unknown action or a broken expression is an error at registration, not only at task creation.
  catalog.addEntityCheck((entity) => (entity.kind === 'Template' ? scaffolder.templateProblems(entity) : []));
  await server.register(scaffolderRoutes(scaffolder, kernel.streams), { prefix: '/api/scaffolder' });
  const pipelines = createPipelines(kernel, { git, options: { embeddedRunner: config.embeddedRunner, ...options.pipelines } });
  pipelines.registerStep('security.secrets-scan', secretsScanStep);
  pipelines.registerStep('security.sast-scan', sastScanStep);
  await server.register(pipelinesRoutes(pipelines, kernel.streams), { prefix: '/api/pipelines' });
  const security = createSecurity(kernel);
  pipelines.registerStep('security.dependency-audit', security.dependencyAuditStep);
  await server.register(securityRoutes(security), { prefix: '/api/security' });
  // Policy and tracked findings before the supply-chain steps: the artifact scan tracks its findings too.
  const policy = createPolicy(kernel, { builtinDir: join(packageRoot, 'policies') });
  await server.register(policyRoutes(policy), { prefix: '/api/policy' });
  const findings = createFindings(kernel, { gate: ciGateAdmission(policy), slaDays: options.findingSlaDays });
  pipelines.registerStep('security.ci-gate', findings.ciGateStep);
  await server.register(findingsRoutes(findings), { prefix: '/api/security' });
  const supplyChain = createSupplyChain(kernel, { pipelines, options: { signingKeyPassphrase: config.signingKeyPassphrase, ...options.security, version } });
  const supplyChainSteps = createSupplyChainSteps(kernel, { security, supplyChain, pipelines, findings, version });
  pipelines.registerStep('security.sbom', supplyChainSteps.sbomStep);
  pipelines.registerStep('security.artifact-scan', supplyChainSteps.artifactScanStep);
  pipelines.registerStep('security.sign', supplyChainSteps.signStep);
  pipelines.registerStep('security.provenance', supplyChainSteps.provenanceStep);
  await server.register(supplyChainRoutes(supplyChain), { prefix: '/api/security' });
  await server.register(signingKeysRoutes(supplyChain));
  // Secure by default (DESIGN principle 6): the runtime runs only artifacts whose content matches the
  // release and whose signed provenance verifies; tests sign fixtures through test/helpers/signing.ts.
  const verifyArtifact: ArtifactVerifier = async (artifact) => {
    await verifyDigest(artifact);
    await supplyChain.assertVerified({ digest: artifact.digest, ...(artifact.kind === 'tarball' ? { bytes: await readFile(artifact.path) } : {}) });
  };
  const resources = createResources(kernel, { admit: provisioningAdmission(policy), modulesDir: join(packageRoot, 'modules'), baseDomain: config.baseDomain });
  policy.setSpendSource((scope, name) => resources.spend(scope, name));
  await server.register(resourcesRoutes(resources), { prefix: '/api/resources' });
  const runtime = await createRuntimeLayer(kernel, { secrets: resources.secretSource, admit: deployAdmission(policy), ...options.runtime, driver: { ...options.runtime?.driver, verifyArtifact } });
  await server.register(runtimeRoutes(runtime, kernel.streams), { prefix: '/api/runtime' });
  const delivery = createDelivery(kernel, { runtime, git, resources });
  await server.register(deliveryRoutes(delivery), { prefix: '/api/delivery' });
  // Push to deploy: the standard pipeline's deploy stages roll this run's signed artifact out.
  const deliverySteps = createDeliverySteps({ delivery, runtime, resources, artifactFile: (digest) => pipelines.artifactFile(digest) });
  pipelines.registerStep('delivery.deploy', deliverySteps.deploy);
  pipelines.registerStep('delivery.performance-test', deliverySteps.performanceTest);
  pipelines.registerStep('delivery.canary', deliverySteps.canary);
  pipelines.registerStep('delivery.analysis', deliverySteps.analysis);
  pipelines.registerStep('delivery.progressive-rollout', deliverySteps.progressiveRollout);
  pipelines.registerStep('delivery.smoke-test', deliverySteps.smokeTest);
  // Catalog ingestion is audited at the policy layer's `catalog` point (never blocking).
  policy.setCatalogSource(async (ref) => {
    const entity = await catalog.getEntityByRef({ kind: 'system', name: 'policy' }, ref);
    return entity === undefined ? undefined : (structuredClone(entity) as unknown as JsonObject);
  });
  // The background scan judges the manifests of every ready release.
  policy.setScanSource(async () => {
    const system = { kind: 'system', name: 'policy' } as const;
    const ready = await runtime.releases(system, { phases: ['ready'] });
    const manifests = await Promise.all(ready.map(async (r) => ({ release: r, manifests: await runtime.manifests(system, r.id) })));
    return manifests.flatMap(({ release, manifests: list }) =>
      list.map((object) => ({ object, owner: release.spec.labels.owner, subjects: [`service:default/${release.service}`, `environment:${release.environment}`] })),
    );
  });
  let stopping: Promise<void> | undefined;
  let demoLoading: Promise<void> | undefined;
  let templatesLoading: Promise<void> | undefined;
  let loadDemo = false;
  let demoTimer: NodeJS.Timeout | undefined;
  let cancelDemo: (() => void) | undefined;

  return {
    server,
    kernel,
    catalog,
    search,
    git,
    scaffolder,
    pipelines,
    runtime,
    delivery,
    policy,
    security,
    supplyChain,
    findings,
    resources,
    async start() {
      const result = await kernel.start(layerMigrations);
      // After the migrations: the catalog follows the ledger. Its job handler may register after the
      // worker started (workers claim the kinds registered at each claim).
      await catalog.start();
      loadDemo = result.admin !== undefined && config.demo;
      await search.start();
      await git.start();
      scaffolder.start();
      await supplyChain.start();
      await pipelines.start();
      // Guardrails before the runtime: a deploy is admitted against the seeded policy set.
      await policy.start();
      // Secrets before the runtime: a workload's secret refs are read when it starts.
      await resources.start();
      await runtime.start();
      await delivery.start();
      await server.ready();
      return result;
    },
    async listen() {
      const address = await server.listen({ host: config.host, port: config.port });
      // The gateway for deployed services (DESIGN: 7080) listens with the API.
      await runtime.listen();
      // The golden paths, on every start with or without the demo organisation: refreshing the Location
      // is idempotent and picks up templates changed by an upgrade. After listening, as the demo is.
      if (config.builtinTemplates) {
        templatesLoading = registerBuiltinTemplates(catalog, templatesDir).catch((err: unknown) => kernel.logger.error({ err }, 'could not register the built-in templates'));
      }
      // A newcomer's first look at the portal is a living catalog: the demo organisation, loaded once on
      // the first start. It starts a moment after the server listens, so that serving (and readiness)
      // does not queue behind its parsing and validation on the one JavaScript thread.
      if (loadDemo) {
        loadDemo = false;
        demoLoading = new Promise<void>((resolve) => {
          demoTimer = setTimeout(() => {
            demoTimer = undefined;
            catalog
              .addLocation({ kind: 'system', name: 'bootstrap' }, { type: 'file', target: join(examplesDir, 'demo-org', 'catalog-info.yaml') }, { dryRun: false })
              .then(
                () => undefined,
                (err: unknown) => kernel.logger.error({ err }, 'could not load the demo organisation'),
              )
              .finally(resolve);
          }, DEMO_DELAY_MS);
          cancelDemo = resolve;
        });
      }
      return address;
    },
    templatesReady: async () => templatesLoading,
    stop() {
      stopping ??= (async () => {
        if (demoTimer) {
          clearTimeout(demoTimer);
          cancelDemo?.();
        }
        await demoLoading;
        await templatesLoading;
        search.stop();
        kernel.streams.closeAll();
        await server.close();
        await catalog.stop();
        delivery.stop();
        await runtime.stop();
        await resources.stop();
        await git.stop();
        await pipelines.stop();
        policy.stop();
        await kernel.stop();
      })();
      return stopping;
    },
  };
}
