import { rename, rm, stat } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import { resolveInside } from '../workspace.js';
import { createTemplateAction } from './registry.js';

const path = z.string().min(1).max(1000);

export const fsDelete = createTemplateAction({
  id: 'fs:delete',
  description: 'Deletes files and folders (globs) in the workspace',
  schema: { input: z.strictObject({ files: z.array(path).min(1).max(500) }) },
  supportsDryRun: true,
  async handler(ctx) {
    for (const [i, pattern] of ctx.input.files.entries()) {
      // Confine the pattern itself first, so "../*" or "/etc/*" never reaches the glob.
      await resolveInside(ctx.workspacePath, pattern.replace(/[*?[\]{}!].*$/, '') || '.', `files[${i}]`);
      const matches = await glob(pattern, { cwd: ctx.workspacePath, dot: true, onlyFiles: false, followSymbolicLinks: false, expandDirectories: false });
      for (const match of matches) {
        const target = await resolveInside(ctx.workspacePath, match, `files[${i}]`);
        await rm(target, { recursive: true, force: true });
        ctx.log(`deleted ${match}`);
      }
    }
  },
});

export const fsRename = createTemplateAction({
  id: 'fs:rename',
  description: 'Renames or moves files and folders in the workspace',
  schema: { input: z.strictObject({ files: z.array(z.strictObject({ from: path, to: path, overwrite: z.boolean().default(false) })).min(1).max(500) }) },
  supportsDryRun: true,
  async handler(ctx) {
    for (const [i, file] of ctx.input.files.entries()) {
      const from = await resolveInside(ctx.workspacePath, file.from, `files[${i}].from`);
      const to = await resolveInside(ctx.workspacePath, file.to, `files[${i}].to`);
      if (!(await stat(from).catch(() => undefined))) throw new InputError(`files[${i}].from: ${file.from} does not exist in the workspace`);
      if (!file.overwrite && (await stat(to).catch(() => undefined))) throw new InputError(`files[${i}].to: ${file.to} already exists; set overwrite: true to replace it`);
      await mkdir(dirname(to), { recursive: true });
      await rename(from, to);
      ctx.log(`renamed ${file.from} to ${file.to}`);
    }
  },
});
