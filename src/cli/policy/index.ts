/** `plinth policy …`: policies from the command line. */
export { registerPolicyCommands } from './commands.js';
