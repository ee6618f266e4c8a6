import { z } from 'zod';
import type { Principal } from '../../kernel/index.js';

/** What an action gets while it runs one step of a task. */
export interface ActionContext<Input> {
  /** The task's private workspace; every write stays inside it (see workspace.ts). */
  workspacePath: string;
  input: Input;
  /** Appends a line to the task's log, attributed to this step. */
  log(message: string): void;
  /** Sets one output of the step (`steps.<id>.output.<name>`). */
  output(name: string, value: unknown): void;
  /** Aborted when the task is cancelled or its worker stops. */
  signal: AbortSignal;
  isDryRun: boolean;
  /** The user who created the task, acting through a short-lived token of theirs. */
  principal: Principal;
  user: { ref?: string; entity?: unknown };
  secrets: Readonly<Record<string, string>>;
  /** Where the template came from: the folder of its file, or the URL of its folder on the hosted git; relative skeleton urls resolve against it. */
  templateInfo: { entityRef: string; baseDir?: string; baseUrl?: string };
  /** A token secret of the task's user, for actions that call Plinth over HTTP (git push); absent in dry runs. */
  userToken?: string;
  /** Plinth's own base URL (`http://127.0.0.1:7007`), once the server listens. */
  serverUrl(): string | undefined;
}

/** A scaffolder action: input validated by its zod schema before the handler runs. */
export interface TemplateAction<Input = unknown> {
  id: string;
  description: string;
  schema: { input: z.ZodType<Input>; output?: z.ZodType };
  /** Dry runs run the action (it only touches the workspace or reads); otherwise the step is skipped with example outputs. */
  supportsDryRun: boolean;
  handler(ctx: ActionContext<Input>): Promise<void>;
  /**
   * Checks made when the task is created, before anything runs, for inputs that depend only on the
   * parameters (e.g. the repository to publish to exists already): throws to refuse the task up front.
   */
  preflight?(ctx: { input: Input; principal: Principal }): Promise<void>;
}

/** Declares an action; a function so the input type flows from the schema into the handler. */
export function createTemplateAction<Input>(action: TemplateAction<Input>): TemplateAction<Input> {
  return action;
}

/** The actions a task may use; later layers (resources, delivery) register theirs here. */
export interface ActionRegistry {
  register(action: TemplateAction<never>): void;
  get(id: string): TemplateAction<unknown> | undefined;
  has(id: string): boolean;
  list(): TemplateAction<unknown>[];
}

export function createActionRegistry(): ActionRegistry {
  const actions = new Map<string, TemplateAction<unknown>>();
  return {
    register(action) {
      if (!/^[a-z][A-Za-z0-9]*(:[a-z][A-Za-z0-9-]*)+$/.test(action.id)) throw new Error(`action id "${action.id}" is not namespace:name`);
      if (actions.has(action.id)) throw new Error(`action ${action.id} is already registered`);
      actions.set(action.id, action as unknown as TemplateAction<unknown>);
    },
    get: (id) => actions.get(id),
    has: (id) => actions.has(id),
    list: () => [...actions.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/** The JSON Schema of an action's input and output, as Backstage's GET /v2/actions serves them. */
export function actionSchemas(action: TemplateAction<unknown>): { input: unknown; output?: unknown } {
  const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' });
  return { input: toJson(action.schema.input), ...(action.schema.output ? { output: toJson(action.schema.output) } : {}) };
}

/**
 * Outputs a skipped step pretends to have in a dry run, so later expressions still render: each
 * output property gets a placeholder of its type (Backstage's dry run does the same from the schema).
 */
export function exampleOutput(action: TemplateAction<unknown>): Record<string, unknown> {
  const schema = actionSchemas(action).output as { properties?: Record<string, { type?: string; format?: string }> } | undefined;
  const out: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    // A URL output must stay a URL: a later step's input schema (catalog:register's repoContentsUrl) checks it.
    const text = property.format === 'uri' ? `https://example.invalid/${name}` : `<example ${name}>`;
    out[name] = property.type === 'number' || property.type === 'integer' ? 0 : property.type === 'boolean' ? false : property.type === 'object' ? {} : property.type === 'array' ? [] : text;
  }
  return out;
}
