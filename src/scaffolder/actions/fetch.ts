import { chmod, readFile, stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import { renderText } from '../expressions.js';
import { isBinary, listFiles, writeInside } from '../workspace.js';
import { createTemplateAction, type ActionContext } from './registry.js';
import { openSkeleton, type SkeletonGit } from './skeleton-source.js';

const relativePath = z.string().min(1).max(1000);

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
  url: relativePath.describe("skeleton folder, relative to the template (./skeleton), or on Plinth's hosted git (<server>/api/git/repos/<owner>/<name>/contents/<ref>/<path>)"),
  targetPath: relativePath.default('./').describe('folder in the workspace to write to'),
  values: z.record(z.string(), z.unknown()).default({}).describe('values for the skeleton, as ${{ values.x }}'),
  copyWithoutTemplating: z.array(z.string().max(500)).max(200).default([]).describe('globs (relative to the skeleton) copied without rendering contents'),
  copyWithoutRender: z.array(z.string().max(500)).max(200).optional().describe('deprecated and ignored, as in Backstage scaffolder ≥ 2; use copyWithoutTemplating'),
  cookiecutterCompat: z.boolean().default(false).describe('render {{ cookiecutter.x }} as cookiecutter templates do, with the jsonify filter'),
  templateFileExtension: z.union([z.boolean(), z.string().regex(/^\.[A-Za-z0-9]+$/)]).default(false).describe('render only files with this extension (true means .njk) and drop it'),
  replace: z.boolean().default(false).describe('overwrite files that already exist in the workspace'),
});

/** Renders the skeleton folder `from` into the workspace (fetch:template): paths and contents, minus verbatim globs. */
async function renderSkeleton(ctx: ActionContext<z.output<typeof FetchTemplateInput>>, from: string): Promise<void> {
  const { input } = ctx;
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
}

/** fetch:template, fetch:plain and fetch:plain:file, reading skeletons next to the template or on the hosted git. */
export function fetchActions(git: SkeletonGit) {
  const fetchTemplate = createTemplateAction({
    id: 'fetch:template',
    description: "Renders a skeleton folder (next to the template or on Plinth's hosted git) into the workspace, contents and paths",
    schema: { input: FetchTemplateInput },
    supportsDryRun: true,
    async handler(ctx) {
      const skeleton = await openSkeleton(git, ctx, ctx.input.url, 'url');
      try {
        await renderSkeleton(ctx, skeleton.path);
      } finally {
        await skeleton.close();
      }
    },
  });

  const fetchPlain = createTemplateAction({
    id: 'fetch:plain',
    description: "Copies a folder (next to the template or on Plinth's hosted git) into the workspace, unchanged",
    schema: { input: z.strictObject({ url: relativePath, targetPath: relativePath.default('./') }) },
    supportsDryRun: true,
    async handler(ctx) {
      const skeleton = await openSkeleton(git, ctx, ctx.input.url, 'url');
      try {
        const written = await copyTree(ctx, skeleton.path, ctx.input.targetPath, (path, content) => ({ path, content }));
        ctx.log(`fetch:plain copied ${written} files to ${ctx.input.targetPath}`);
      } finally {
        await skeleton.close();
      }
    },
  });

  const fetchPlainFile = createTemplateAction({
    id: 'fetch:plain:file',
    description: "Copies one file (next to the template or on Plinth's hosted git) into the workspace, unchanged",
    schema: { input: z.strictObject({ url: relativePath, targetPath: relativePath.describe('file path in the workspace') }) },
    supportsDryRun: true,
    async handler(ctx) {
      const skeleton = await openSkeleton(git, ctx, ctx.input.url, 'url', 'file');
      try {
        const source = await stat(skeleton.path).catch(() => undefined);
        if (!source?.isFile()) throw new InputError(`url: "${ctx.input.url}" is not a file`);
        await writeInside(ctx.workspacePath, ctx.input.targetPath, await readFile(skeleton.path), 'targetPath');
        ctx.log(`fetch:plain:file copied ${ctx.input.url} to ${ctx.input.targetPath}`);
      } finally {
        await skeleton.close();
      }
    },
  });

  return [fetchTemplate, fetchPlain, fetchPlainFile];
}
