/** The git layer's types, input schemas and pure functions (no I/O). */
export {
  ownerProblem,
  repositoryNameProblem,
  checkRepositoryPath,
  branchProblem,
  revisionProblem,
  parseTreePath,
  isObjectId,
  ownerSchema,
  nameSchema,
  branchSchema,
} from './names.js';
export {
  gitPermissions,
  repositoryResource,
  repositorySubject,
  CreateRepositoryInput,
  RepositoryParams,
  ListRepositoriesQuery,
  RepositoryView,
  parseLsTree,
  type Repository,
  type TreeEntry,
} from './repository.js';
export {
  pushEventLimits,
  REF_PUSHED,
  PushedCommit,
  RefPushedPayload,
  parseRefUpdates,
  LOG_FORMAT,
  parseLogOutput,
  type RefPush,
  type RefUpdate,
} from './push.js';
export { basicAuthPassword, gitProtocolOf, isProtocolV2, pktLine, GitPathParams, type GitService } from './smart-http.js';
