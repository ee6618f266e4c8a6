// Copies src/ to dist/, stamping the build date, and fails when a page links to a file that is missing.
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { localLinks, outputDir, pages, read, sourceDir } from './site.mjs';

await rm(outputDir, { recursive: true, force: true });
await mkdir(outputDir, { recursive: true });
await cp(sourceDir, outputDir, { recursive: true });
const date = new Date().toISOString().slice(0, 10);
const broken = [];
for (const page of await pages(outputDir)) {
  const html = (await read(outputDir, page)).replaceAll('__BUILD_DATE__', date);
  await writeFile(join(outputDir, page), html);
  for (const target of localLinks(html)) if (!existsSync(join(outputDir, target))) broken.push(`${page}: ${target}`);
}
if (broken.length > 0) {
  console.error(`broken links:\n  ${broken.join('\n  ')}`);
  process.exit(1);
}
console.log(`built ${outputDir}`);
