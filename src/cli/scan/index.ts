import type { Command } from 'commander';
import type { Cli } from '../context.js';
import { registerScanDeps } from './deps.js';
import { registerScanSast } from './sast.js';
import { registerScanSecrets } from './secrets.js';

/** `plinth scan secrets|deps|sast PATH`: the security stage's scanners, run on a local folder. */
export function registerScanCommands(program: Command, cli: Cli): void {
  const scan = program.command('scan').description('Scan a folder for secrets, vulnerable dependencies and insecure code');
  registerScanSecrets(scan, cli);
  registerScanDeps(scan, cli);
  registerScanSast(scan, cli);
}
