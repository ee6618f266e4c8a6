import { chmod, readFile, stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import { renderText } from '../expressions.js';
import { isBinary, listFiles, resolveInside, writeInside } from '../workspace.js';
import { createTemplateAction, type ActionContext } from './registry.js';

const relativePath = z.string().min(1).max(1000);

/**
 * The skeleton a step names, relative to the folder of the template's file location and confined to it.
 * Remote skeletons (http URLs, hosted repositories) are not read yet.
 */
async function sourcePath(ctx: ActionContext<unknown>, url: string, field: string): Promise<string> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new InputError(`${field}: "${url}" is a remote location; this installation reads skeletons next to the template's file (e.g. ./skeleton)`);
  const baseDir = ctx.templateInfo.baseDir;
  if (baseDir === undefined) throw new InputError(`${field}: template ${ctx.templateInfo.entityRef} has no file location to resolve "${url}" against`);
  return resolveInside(baseDir, url, field);
}

async function copyTree(ctx: ActionContext<unknown>, from: string, targetPath: string, transform: (relPath: string, content: Buffer) => { path: string; content: Buffer | string } | undefined) {
  const source = await stat(from).catch(() => undefined);
  if (!source?.isDirectory()) throw new InputError(`url: ${ctx.templateInfo.entityRef} has no folder at the given url`);
  let written = 0;
  for (const file of await listFiles(from)) {
    const result = transform(file.path, file.content);
    if (result === undefined) continue;
    const target = await writeInside(ctx.workspacePath, `${targetPath}/${result.path}`, result.content, 'targetPath');
    if (file.executable) await chmod(target, 0o755);
    written += 1;
  }
  return written;
}

const FetchTemplateInput = z.strictObject({
  url: relativePath.describe('skeleton folder, relative to the template file (./skeleton)'),
  targetPath: relativePath.default('./').describe('folder in the workspace to write to'),
  values: z.record(z.string(), z.unknown()).default({}).describe('values for the skeleton, as ${{ values.x }}'),
  copyWithoutTemplating: z.array(z.string().max(500)).max(200).default([]).describe('globs (relative to the skeleton) copied without rendering contents'),
  copyWithoutRender: z.array(z.string().max(500)).max(200).optional().describe('deprecated and ignored, as in Backstage scaffolder ≥ 2; use copyWithoutTemplating'),
  cookiecutterCompat: z.boolean().default(false).describe('render {{ cookiecutter.x }} as cookiecutter templates do, with the jsonify filter'),
  templateFileExtension: z.union([z.boolean(), z.string().regex(/^\.[A-Za-z0-9]+$/)]).default(false).describe('render only files with this extension (true means .njk) and drop it'),
  replace: z.boolean().default(false).describe('overwrite files that already exist in the workspace'),
});

export const fetchTemplate = createTemplateAction({
  id: 'fetch:template',
  description: 'Renders a skeleton folder next to the template (contents and paths) into the workspace',
  schema: { input: FetchTemplateInput },
  supportsDryRun: true,
  async handler(ctx) {
    const { input } = ctx;
    const from = await sourcePath(ctx, input.url, 'url');
    if (input.copyWithoutRender !== undefined) ctx.log('copyWithoutRender is deprecated and ignored; use copyWithoutTemplating');
    const verbatim = new Set(input.copyWithoutTemplating.length > 0 ? await glob(input.copyWithoutTemplating, { cwd: from, dot: true, onlyFiles: true, followSymbolicLinks: false }) : []);
    const extension = input.templateFileExtension === true ? '.njk' : input.templateFileExtension || undefined;
    const compat = input.cookiecutterCompat;
    const context = compat ? { cookiecutter: input.values } : { values: input.values };
    // Text with no tag renders to itself: skip the realm (most skeleton files have no expression).
    const tag = compat ? /\{\{|\{%|\{#/ : /\$\{\{|\{%|\{#/;
    const render = (text: string, what: string) => {
      if (!tag.test(text)) return text;
      try {
        return renderText(text, context, { cookiecutterCompat: compat });
      } catch (err) {
        throw new InputError(`${what}: ${(err as Error).message}`);
      }
    };
    const existing = new Set(input.replace ? [] : (await listFiles(ctx.workspacePath, { withContent: false })).map((f) => f.path));
    const targetPrefix = input.targetPath.replace(/^\.\/?/, '').replace(/\/$/, '');
    const written = await copyTree(ctx, from, input.targetPath, (relPath, content) => {
      let path = render(relPath, `path ${relPath}`);
      // A path that renders empty (`{% if values.x %}name{% endif %}`) means: leave the file out.
      if (path === '' || path.endsWith('/')) return undefined;
      const templated = !verbatim.has(relPath) && !isBinary(content) && (extension === undefined || path.endsWith(extension));
      if (extension !== undefined && path.endsWith(extension)) path = path.slice(0, -extension.length);
      if (existing.has(targetPrefix === '' ? path : `${targetPrefix}/${path}`)) return undefined;
      return { path, content: templated ? render(content.toString('utf8'), relPath) : content };
    });
    ctx.log(`fetch:template wrote ${written} files to ${input.targetPath}`);
  },
});

export const fetchPlain = createTemplateAction({
  id: 'fetch:plain',
  description: 'Copies a folder next to the template into the workspace, unchanged',
  schema: { input: z.strictObject({ url: relativePath, targetPath: relativePath.default('./') }) },
  supportsDryRun: true,
  async handler(ctx) {
    const from = await sourcePath(ctx, ctx.input.url, 'url');
    const written = await copyTree(ctx, from, ctx.input.targetPath, (path, content) => ({ path, content }));
    ctx.log(`fetch:plain copied ${written} files to ${ctx.input.targetPath}`);
  },
});

export const fetchPlainFile = createTemplateAction({
  id: 'fetch:plain:file',
  description: 'Copies one file next to the template into the workspace, unchanged',
  schema: { input: z.strictObject({ url: relativePath, targetPath: relativePath.describe('file path in the workspace') }) },
  supportsDryRun: true,
  async handler(ctx) {
    const from = await sourcePath(ctx, ctx.input.url, 'url');
    const source = await stat(from).catch(() => undefined);
    if (!source?.isFile()) throw new InputError(`url: "${ctx.input.url}" is not a file next to the template`);
    await writeInside(ctx.workspacePath, ctx.input.targetPath, await readFile(from), 'targetPath');
    ctx.log(`fetch:plain:file copied ${ctx.input.url} to ${ctx.input.targetPath}`);
  },
});
