/**
 * The resources layer: pre-approved modules, claims provisioned on real servers (PostgreSQL, Redis,
 * RabbitMQ, NATS JetStream, generated secrets), backups and restores, credential rotation, drift and its repair, cost, and the encrypted secret store.
 */

/** The layer: create it with an admission function, mount its routes under /api/resources. */
export { createResources, resourcePermissions, type Resources, type ResourcesOptions, type ProvisioningAdmission } from './service.js';
export { resourcesRoutes } from './routes.js';
export { resourcesMigrations } from './migrations.js';
export type { SecretSource, Secrets } from './secrets/service.js';

/** Models others may use: claims, plans, modules, secrets, and Score resources → claims. */
export { claimPhases, MAX_CLAIMS_PAGE, physicalNames, type Claim, type ClaimListQuery, type ClaimView, type ClaimObject, type PlanView, type CreateClaimBody, type CostLine, type Denial, type OrphanReport } from './model/claim.js';
export { parseModule, presets, type Module, type ModuleView, type PresetName } from './model/module.js';
export { parseSecretRef, type SecretView } from './model/secret.js';
export { claimsFromScore, type ScoreClaims, type ScoreResources } from './model/score.js';
export type { Operation, OperationKind, OperationPhase, BackupRecord, BackupKind } from './model/operation.js';
