import { stringify } from 'yaml';
import { z } from 'zod';
import { parseRef, refKey, type Catalog } from '../../catalog/index.js';
import { InputError, NotFoundError } from '../../kernel/index.js';
import { writeInside } from '../workspace.js';
import { createTemplateAction } from './registry.js';

const url = z.string().url().max(2000);

export function catalogActions(catalog: Pick<Catalog, 'addLocation' | 'getEntityByRef'>) {
  const register = createTemplateAction({
    id: 'catalog:register',
    description: "Registers a url location (e.g. the new repository's catalog-info.yaml) in the catalog",
    schema: {
      input: z.union([
        z.strictObject({ catalogInfoUrl: url, optional: z.boolean().default(false) }),
        z.strictObject({ repoContentsUrl: url, catalogInfoPath: z.string().max(1000).default('/catalog-info.yaml'), optional: z.boolean().default(false) }),
      ]),
      output: z.object({ entityRef: z.string().optional(), catalogInfoUrl: z.string() }),
    },
    supportsDryRun: false,
    async handler(ctx) {
      const input = ctx.input;
      const target = 'catalogInfoUrl' in input ? input.catalogInfoUrl : new URL(input.catalogInfoPath.replace(/^\//, ''), input.repoContentsUrl.endsWith('/') ? input.repoContentsUrl : `${input.repoContentsUrl}/`).toString();
      ctx.log(`registering ${target} in the catalog`);
      try {
        // A dry read first tells which entity the location holds; Backstage reports the first that is not a Location.
        const preview = await catalog.addLocation(ctx.principal, { type: 'url', target }, { dryRun: true });
        await catalog.addLocation(ctx.principal, { type: 'url', target }, { dryRun: false, onConflict: 'refresh' });
        const entity = preview.entities.find((e) => e.kind !== 'Location') ?? preview.entities[0];
        if (entity) ctx.output('entityRef', refKey({ kind: entity.kind, namespace: entity.metadata.namespace ?? 'default', name: entity.metadata.name }));
        ctx.output('catalogInfoUrl', target);
      } catch (err) {
        if (!input.optional) throw err;
        ctx.log(`could not register ${target} (optional): ${(err as Error).message}`);
      }
    },
  });

  const write = createTemplateAction({
    id: 'catalog:write',
    description: 'Writes a catalog entity as YAML into the workspace',
    schema: { input: z.strictObject({ filePath: z.string().min(1).max(1000).default('catalog-info.yaml'), entity: z.record(z.string(), z.unknown()) }) },
    supportsDryRun: true,
    async handler(ctx) {
      await writeInside(ctx.workspacePath, ctx.input.filePath, stringify(ctx.input.entity), 'filePath');
      ctx.log(`wrote ${ctx.input.filePath}`);
    },
  });

  const fetch = createTemplateAction({
    id: 'catalog:fetch',
    description: 'Reads entities from the catalog by ref',
    schema: {
      input: z
        .strictObject({
          entityRef: z.string().max(600).optional(),
          entityRefs: z.array(z.string().max(600)).max(500).optional(),
          optional: z.boolean().default(false),
          defaultKind: z.string().max(100).optional(),
          defaultNamespace: z.string().max(100).default('default'),
        })
        .refine((i) => i.entityRef !== undefined || i.entityRefs !== undefined, 'give entityRef or entityRefs'),
      output: z.object({ entity: z.record(z.string(), z.unknown()).optional(), entities: z.array(z.record(z.string(), z.unknown()).nullable()).optional() }),
    },
    supportsDryRun: true,
    async handler(ctx) {
      const { entityRef, entityRefs, optional, defaultKind, defaultNamespace } = ctx.input;
      const read = async (ref: string, field: string) => {
        let key: string;
        try {
          key = refKey(parseRef(ref, { defaultKind, defaultNamespace }));
        } catch (err) {
          throw new InputError(`${field}: ${(err as Error).message}`);
        }
        const entity = await catalog.getEntityByRef(ctx.principal, key);
        if (!entity && !optional) throw new NotFoundError(`${field}: no entity ${key} in the catalog`);
        return entity ?? null;
      };
      if (entityRef !== undefined) {
        const entity = await read(entityRef, 'entityRef');
        if (entity) ctx.output('entity', entity);
      }
      if (entityRefs !== undefined) ctx.output('entities', await Promise.all(entityRefs.map((r, i) => read(r, `entityRefs[${i}]`))));
    },
  });

  return [register, write, fetch];
}
