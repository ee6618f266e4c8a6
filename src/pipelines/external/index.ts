/** External repositories: registered remotes whose GitHub- or GitLab-style push webhooks start pipeline runs. */
export { ASKPASS, createExternalRepositories, EXTERNAL_PUSH_RECEIVED, type ExternalRepositories, type CheckoutSource, type WebhookDelivery } from './service.js';
export { externalRepositoriesRoutes } from './routes.js';
export { isExternalRepositoryName, externalRepositoryName, providers, type Provider, type ExternalRepository, type CreatedExternalRepository, type CreateExternalRepositoryInput, type WebhookOutcome } from './model.js';
