import { parseConfig, PlinthError } from './kernel/index.js';
import { serve } from './serve.js';

try {
  await serve(parseConfig(process.argv.slice(2), process.env));
} catch (err) {
  process.stderr.write(`plinth: ${err instanceof PlinthError ? err.message : String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
}
