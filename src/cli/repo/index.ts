/** `plinth repo …`: hosted git repositories from the command line. */
export { registerRepoCommands } from './commands.js';
