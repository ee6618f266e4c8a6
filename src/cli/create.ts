import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { StepState, Task, TaskEvent } from '../scaffolder/index.js';
import { ApiError } from './client.js';
import type { Cli } from './context.js';
import { CliError, UsageError } from './errors.js';
import { createSseParser, readSse } from './sse.js';

const api = '/api/scaffolder/v2';
/** The prefix of the server's InputError for values that violate the parameters (scaffolder model.ts). */
const VALUES_PROBLEM = "values do not match the template's parameters: ";

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema> };

/** `name`, `namespace/name` or a full ref → `template:<namespace>/<name>`. */
export function templateRefOf(value: string): string {
  if (value.includes(':')) return value;
  const parts = value.split('/');
  if (parts.length === 1) return `template:default/${value}`;
  if (parts.length === 2) return `template:${parts[0]}/${parts[1]}`;
  throw new InvalidArgumentError(`"${value}" is not a template name or ref; use node-service or template:default/node-service`);
}

function collectSet(value: string, previous: string[]): string[] {
  if (!/^[A-Za-z_][\w.-]*=/.test(value)) throw new InvalidArgumentError(`"${value}" is not key=value`);
  return [...previous, value];
}

/** The property schema of a dotted key in any parameter page (pages share one values object). */
function propertyOf(pages: readonly JsonSchema[], path: readonly string[]): JsonSchema | undefined {
  for (const page of pages) {
    let schema: JsonSchema | undefined = page;
    for (const key of path) schema = schema?.properties?.[key];
    if (schema !== undefined) return schema;
  }
  return undefined;
}

/** Turns `--set` pairs into values, typed by the template's parameter schema (booleans, numbers, arrays, objects). */
export function parseValues(pairs: readonly string[], pages: readonly JsonSchema[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const path = pair.slice(0, eq).split('.');
    const raw = pair.slice(eq + 1);
    const types = [propertyOf(pages, path)?.type ?? 'string'].flat();
    let value: unknown = raw;
    if (types.includes('boolean') && (raw === 'true' || raw === 'false')) value = raw === 'true';
    else if ((types.includes('integer') || types.includes('number')) && raw.trim() !== '' && Number.isFinite(Number(raw))) value = Number(raw);
    else if (types.includes('array') || types.includes('object')) {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new UsageError(`--set ${pair}: ${path.join('.')} is an ${types.join('|')}; give it as JSON`);
      }
    }
    let target = values;
    for (const key of path.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[path.at(-1)!] = value;
  }
  return values;
}

/** Backstage's `${name}: ${status}` step lines, with the step id in front. */
function describeEvent(event: TaskEvent): string | undefined {
  if (event.type !== 'log') return undefined;
  const { message, stepId } = event.body as { message?: string; stepId?: string };
  if (typeof message !== 'string') return undefined;
  return stepId !== undefined ? `[${stepId}] ${message}` : message;
}

function printOutput(cli: Cli, output: Record<string, unknown> | null): void {
  const links = (output?.links ?? []) as { title?: string; url?: string; entityRef?: string }[];
  const texts = (output?.text ?? []) as { title?: string; content?: string }[];
  for (const link of links) {
    const target = link.url ?? (link.entityRef !== undefined ? `${link.entityRef}` : undefined);
    if (target !== undefined && target !== '') cli.out(`${link.title ?? 'Link'}: ${target}`);
  }
  for (const text of texts) cli.out(`${text.title ?? ''}${text.title !== undefined ? ':\n' : ''}${text.content ?? ''}`.trimEnd());
}

/** Rewords the 400 for bad values as one line per field. */
function valueProblems(err: unknown): CliError | undefined {
  if (!(err instanceof ApiError) || err.status !== 400 || !err.message.startsWith(VALUES_PROBLEM)) return undefined;
  const fields = err.message.slice(VALUES_PROBLEM.length).split('; ');
  return new CliError(`the values do not fit the template's parameters:\n${fields.map((f) => `  ${f}`).join('\n')}`);
}

/** `plinth create TEMPLATE --set key=value … [--dry-run] [--json]`. */
export function registerCreateCommand(program: Command, cli: Cli): void {
  program
    .command('create')
    .description('create a repository from a software template (a golden path): node-service, static-site, library, …')
    .argument('<template>', 'template name (node-service) or ref (template:default/node-service)', templateRefOf)
    .option('--set <key=value>', 'a parameter value; repeat for each (typed by the template: true/false, numbers, JSON for lists)', collectSet, [])
    .option('--dry-run', 'render the files and the step plan without creating anything')
    .option('--json', 'print the task (or dry-run result) as JSON')
    .action(async (templateRef: string, opts: { set: string[]; dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const [, namespace, name] = /^template:([^/]+)\/(.+)$/.exec(templateRef) ?? [];
      if (namespace === undefined || name === undefined) throw new UsageError(`"${templateRef}" is not a Template ref`);
      const schema = await client.json<{ steps: { schema: JsonSchema }[] }>('GET', `${api}/templates/${encodeURIComponent(namespace)}/template/${encodeURIComponent(name)}/parameter-schema`);
      const values = parseValues(opts.set, schema.steps.map((s) => s.schema));
      try {
        if (opts.dryRun === true) return await dryRun(cli, client, templateRef, values, opts.json === true);
        await runTask(cli, client, templateRef, values, opts.json === true);
      } catch (err) {
        throw valueProblems(err) ?? err;
      }
    });
}

type Client = Awaited<ReturnType<Cli['connect']>>['client'];

async function dryRun(cli: Cli, client: Client, templateRef: string, values: Record<string, unknown>, json: boolean): Promise<void> {
  const result = await client.json<{ status: string; error?: { message: string }; steps: { id: string; name: string; action: string }[]; directoryContents: { path: string; base64Content: string }[]; output: Record<string, unknown> }>('POST', `${api}/dry-run`, { body: { templateRef, values } });
  if (json) {
    cli.printJson({ ...result, directoryContents: result.directoryContents.map((f) => ({ path: f.path, bytes: Buffer.from(f.base64Content, 'base64').length })) });
  } else {
    cli.out(`Dry run of ${templateRef}: ${result.status}`);
    cli.out('Steps:');
    for (const step of result.steps) cli.out(`  ${step.id.padEnd(16)} ${step.action.padEnd(18)} ${step.name}`);
    cli.out(`Files (${result.directoryContents.length}):`);
    for (const file of result.directoryContents) cli.out(`  ${file.path}`);
  }
  if (result.status !== 'completed') throw new CliError(`dry run ${result.status}: ${result.error?.message ?? 'no message'}`);
}

async function runTask(cli: Cli, client: Client, templateRef: string, values: Record<string, unknown>, json: boolean): Promise<void> {
  const { id } = await client.json<{ id: string }>('POST', `${api}/tasks`, { body: { templateRef, values } });
  if (!json) cli.out(`Task ${id} created from ${templateRef}`);
  const signal = cli.io.interruptSignal();
  const res = await client.send('GET', `${api}/tasks/${id}/eventstream`, { headers: { accept: 'text/event-stream' }, signal, timeoutMs: null });
  if (res.body !== null) {
    try {
      for await (const message of readSse(res.body, createSseParser())) {
        if (message.event === 'completion') break;
        const line = json ? undefined : describeEvent(JSON.parse(message.data) as TaskEvent);
        if (line !== undefined) cli.out(line);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
      throw new CliError(`stopped following task ${id}; it goes on on the server (cancel it with POST ${api}/tasks/${id}/cancel)`, 130);
    }
  }
  const task = await client.json<Task>('GET', `${api}/tasks/${id}`);
  if (json) cli.printJson(task);
  if (task.status === 'completed') {
    if (!json) printOutput(cli, task.output);
    return;
  }
  const failed: StepState | undefined = task.steps.find((s) => s.status === 'failed' || s.status === 'cancelled');
  const where = failed !== undefined ? `step ${failed.id} (${failed.name}) ${failed.status}` : `task ${task.status}`;
  throw new CliError(`${where}: ${task.error ?? 'no message'}${task.status === 'failed' ? `\nretry from that step with: POST ${api}/tasks/${id}/retry` : ''}`);
}
