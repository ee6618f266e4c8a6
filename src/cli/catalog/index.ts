/** `plinth catalog …`: the Backstage-compatible catalog from the command line. */
export { registerCatalogCommands } from './commands.js';
