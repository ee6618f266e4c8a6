// Shared by the build, the lint and the tests: what the site's pages are and what they link to.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const sourceDir = new URL('../src/', import.meta.url).pathname;
export const outputDir = new URL('../dist/', import.meta.url).pathname;

export async function pages(dir) {
  return (await readdir(dir)).filter((f) => f.endsWith('.html')).sort();
}

/** Local href/src targets of a page (external, mailto and fragment links are not files). */
export function localLinks(html) {
  return [...html.matchAll(/\s(?:href|src)="([^"]+)"/g)].map((m) => m[1]).filter((t) => !/^(?:[a-z]+:|#|\/\/)/i.test(t)).map((t) => t.split(/[?#]/)[0]);
}

export async function read(dir, file) {
  return readFile(join(dir, file), 'utf8');
}
