/** `plinth runs …`: pipeline runs from the command line. */
export { registerRunsCommands } from './commands.js';
