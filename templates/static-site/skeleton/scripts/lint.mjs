// Checks every page for what browsers and screen readers need: doctype, lang, charset, title, viewport, img alt.
import { pages, read, sourceDir } from './site.mjs';

const rules = [
  [/^<!doctype html>/i, 'starts with <!doctype html>'],
  [/<html[^>]*\slang="[^"]+"/i, 'sets <html lang>'],
  [/<meta charset="utf-8">/i, 'declares <meta charset="utf-8">'],
  [/<title>[^<]+<\/title>/i, 'has a non-empty <title>'],
  [/<meta name="viewport"/i, 'has a viewport <meta>'],
];
const problems = [];
for (const page of await pages(sourceDir)) {
  const html = await read(sourceDir, page);
  for (const [pattern, rule] of rules) if (!pattern.test(html)) problems.push(`${page}: ${rule}`);
  for (const img of html.match(/<img\b[^>]*>/gi) ?? []) if (!/\salt="/i.test(img)) problems.push(`${page}: ${img} needs an alt attribute`);
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('lint: ok');
