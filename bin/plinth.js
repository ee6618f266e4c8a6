#!/usr/bin/env node
// The `plinth` command. Runs the compiled CLI when `npm run build` has produced it, and the
// TypeScript source through tsx otherwise, so `npx plinth …` works in a fresh checkout.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('error: plinth is not built and tsx is not installed: run npm install && npm run build\n');
    process.exit(1);
  }
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
await cli.main();
