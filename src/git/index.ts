/** Hosted git: bare repositories in the data directory, smart HTTP at /git/, push events in the ledger. */
export { createGit, type Git, type TreeLocation, type FileContent } from './service.js';
export type { GitOptions, GitTransport, ServiceProcess } from './transport.js';
export { contentsLocationOf, gitRoutes } from './routes.js';
export { gitHttpRoutes } from './smart-http.js';
export { gitMigrations } from './migrations.js';
/** The git client with no user or system config and no prompts, for layers that clone and push. */
export { runGit, GitCommandError, type RunGitOptions } from './git-process.js';
/** Child processes started from worker threads, so a fork never holds the event loop (issue 5). */
export { REF_PUSHED, gitPermissions } from './model/index.js';
export type { Repository, RepositoryView, TreeEntry, RefPush, RefPushedPayload, PushedCommit, GitService } from './model/index.js';
