/** Software templates: Backstage v1beta3 templates, actions and tasks (issue #4). */
export { createScaffolder, scaffolderPermissions, type Scaffolder, type ParameterSchema, type DryRunResult } from './service.js';
export { scaffolderRoutes } from './routes.js';
export { registerBuiltinTemplates } from './builtin-templates.js';
export { scaffolderMigrations } from './migrations.js';
export { createTemplateAction, type ActionRegistry, type ActionContext, type TemplateAction } from './actions/index.js';
export type { Template, Task, TaskEvent, TaskStatus, StepState, TaskSpec } from './model.js';
