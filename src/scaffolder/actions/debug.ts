import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import { listFiles } from '../workspace.js';
import { createTemplateAction } from './registry.js';

const MAX_WAIT_MS = 10 * 60_000;

export const debugLog = createTemplateAction({
  id: 'debug:log',
  description: 'Writes a message, and optionally the workspace listing, to the task log',
  schema: {
    input: z.strictObject({
      message: z.string().max(100_000).optional(),
      listWorkspace: z.union([z.boolean(), z.enum(['with-filenames', 'with-contents'])]).optional(),
      extra: z.unknown().optional(),
    }),
  },
  supportsDryRun: true,
  async handler(ctx) {
    if (ctx.input.message !== undefined) ctx.log(ctx.input.message);
    if (ctx.input.listWorkspace) {
      const withContents = ctx.input.listWorkspace === 'with-contents';
      const files = await listFiles(ctx.workspacePath, { withContent: withContents });
      ctx.log(`Workspace:\n${files.map((f) => `  - ${f.path}${withContents ? `:\n${f.content.toString('utf8')}` : ''}`).join('\n')}`);
    }
  },
});

export const debugWait = createTemplateAction({
  id: 'debug:wait',
  description: 'Waits a while (at most 10 minutes); ends early when the task is cancelled',
  schema: { input: z.strictObject({ minutes: z.number().min(0).optional(), seconds: z.number().min(0).optional(), milliseconds: z.number().min(0).optional() }) },
  supportsDryRun: true,
  async handler(ctx) {
    const { minutes = 0, seconds = 0, milliseconds = 0 } = ctx.input;
    const ms = minutes * 60_000 + seconds * 1000 + milliseconds;
    if (ms > MAX_WAIT_MS) throw new InputError(`waiting ${ms} ms is more than the ${MAX_WAIT_MS} ms allowed`);
    ctx.log(`waiting ${ms} ms`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  },
});
