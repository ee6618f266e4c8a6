import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { localLinks, outputDir, pages, read } from '../scripts/site.mjs';

test('the build writes every page with its title and a build date, and every local link resolves', async () => {
  execFileSync(process.execPath, [new URL('../scripts/build.mjs', import.meta.url).pathname], { stdio: 'pipe' });
  const built = await pages(outputDir);
  assert.deepEqual(built, ['about.html', 'index.html']);
  const index = await read(outputDir, 'index.html');
  assert.ok(index.includes('<title>' + ${{ values.title | dump }} + '</title>'), 'index.html has the site title');
  assert.doesNotMatch(index, /__BUILD_DATE__/);
  for (const page of built) for (const target of localLinks(await read(outputDir, page))) assert.ok(existsSync(join(outputDir, target)), `${page} links to ${target}`);
});

test('localLinks ignores external, mailto and fragment links', () => {
  assert.deepEqual(localLinks('<a href="https://x.dev"></a><a href="mailto:a@b"></a><a href="#top"></a><img src="logo.png?v=1">'), ['logo.png']);
});
