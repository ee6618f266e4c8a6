import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import type { Entity } from '../../catalog/index.js';
import type { Cli } from '../context.js';
import { CliError } from '../errors.js';
import { entitiesOfLocation, getEntity, queryEntities, registeredElsewhere, validateDocument } from './api.js';
import { allPageSize, buildFilters, catalogPath, collectFilter, defaultListLimit, entitySummary, entityTable, formatEntityRef, inFileOrder, listFooter, locationFor, locationTable, parseCatalogYaml, parseEntityRef, parseLimit, refOf, validationLine, type DocumentResult, type ListFilterOptions, type LocationView } from './model.js';

interface ListOptions extends ListFilterOptions {
  search?: string;
  limit?: number;
  all?: boolean;
  json?: boolean;
}

/** `plinth catalog list|get|register|unregister|locations|refresh|validate`. */
export function registerCatalogCommands(program: Command, cli: Cli): void {
  const catalog = program.command('catalog').description('the software catalog: entities and the locations they come from');

  catalog
    .command('list')
    .description('list entities, sorted by name')
    .option('--kind <kinds>', 'only these kinds, comma-separated, e.g. component,api')
    .option('--type <types>', 'only these spec.type values, e.g. service,website')
    .option('--owner <refs>', 'only entities owned by these, e.g. team-a (= group:default/team-a) or user:jdoe')
    .option('--filter <key=value,…>', 'a Backstage filter: all statements must match; repeat it to match any of several', collectFilter, [])
    .option('--search <term>', 'only entities whose name or title contains this text')
    .option('--limit <n>', `entities per page (default ${defaultListLimit}; ${allPageSize} with --all)`, parseLimit)
    .option('--all', 'follow the pages to list every matching entity')
    .option('--json', 'print the entities as a JSON array')
    .action(async (opts: ListOptions, cmd: Command) => {
      const filter = buildFilters(opts);
      const { client } = await cli.connect(cmd);
      const all = opts.all === true;
      const { items, totalItems } = await queryEntities(client, { filter, search: opts.search }, { limit: opts.limit ?? (all ? allPageSize : defaultListLimit), all });
      if (opts.json === true) return cli.printJson(items);
      if (items.length === 0) return cli.out('No entities match.');
      cli.out(entityTable(items));
      cli.out(listFooter(items.length, Math.max(totalItems, items.length)));
    });

  catalog
    .command('get')
    .description('show one entity: its fields, relations and problems')
    .argument('<ref>', '[kind:][namespace/]name; kind defaults to component, namespace to default')
    .addOption(new Option('--json', 'print the entity as JSON').conflicts('yaml'))
    .addOption(new Option('--yaml', 'print the entity as YAML').conflicts('json'))
    .action(async (ref: string, opts: { json?: boolean; yaml?: boolean }, cmd: Command) => {
      const name = parseEntityRef(ref);
      const { client } = await cli.connect(cmd);
      const entity = await getEntity(client, name);
      if (opts.json === true) return cli.printJson(entity);
      if (opts.yaml === true) return cli.out(stringify(inFileOrder(entity), { aliasDuplicateObjects: false }).trimEnd());
      cli.out(entitySummary(entity));
    });

  catalog
    .command('register')
    .description('register a catalog-info.yaml by URL or path; its entities are in the catalog when this returns')
    .argument('<target>', 'an http(s) URL, or a path the server can read (inside its catalog file root, PLINTH_CATALOG_FILE_ROOT)')
    .option('--dry-run', 'only show the entities it would import and whether it is already registered')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const spec = locationFor(target, process.cwd());
      const { client } = await cli.connect(cmd);
      if (opts.dryRun === true) {
        const dry = await client.json<{ location: LocationView; entities: Entity[]; exists?: boolean }>('POST', `${catalogPath}/locations`, {
          query: { dryRun: 'true' },
          body: spec,
        });
        if (opts.json === true) return cli.printJson(dry);
        const where = `${dry.location.type}:${dry.location.target}`;
        const taken = await registeredElsewhere(client, dry.entities, where);
        cli.out(dry.exists === true ? `${where} is already registered (id ${dry.location.id}).` : `${where} is not registered yet.`);
        cli.out(`It would import ${dry.entities.length} ${dry.entities.length === 1 ? 'entity' : 'entities'}${dry.entities.length > 0 ? ':' : '.'}`);
        for (const ref of dry.entities.map(refOf).sort()) {
          const origin = taken.get(ref);
          cli.out(`  ${ref}${origin !== undefined ? `  (already registered from ${origin}: it would be skipped)` : ''}`);
        }
        return;
      }
      const created = await client.json<{ location: LocationView }>('POST', `${catalogPath}/locations`, { body: spec });
      const entities = await entitiesOfLocation(client, created.location);
      if (opts.json === true) return cli.printJson({ location: created.location, entities });
      cli.out(`Registered location ${created.location.id} (${created.location.type}:${created.location.target})`);
      // The generated Location entity is always there; anything else came from the file.
      const imported = entities.filter((e) => !(e.kind === 'Location' && refOf(e) === created.location.entityRef.toLowerCase()));
      cli.out(`${entities.length} ${entities.length === 1 ? 'entity' : 'entities'} in the catalog from it${entities.length > 0 ? ':' : '.'}`);
      for (const e of entities) cli.out(`  ${refOf(e)}`);
      if (imported.length === 0) {
        cli.err(`warning: the location produced no entities; see what it reads with: plinth catalog register ${target} --dry-run`);
      }
    });

  catalog
    .command('unregister')
    .description('remove a registered location and every entity it produced')
    .argument('<location-id>', 'the location id (see plinth catalog locations)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const location = await client.json<LocationView>('GET', `${catalogPath}/locations/${encodeURIComponent(id)}`);
      await client.json('DELETE', `${catalogPath}/locations/${encodeURIComponent(id)}`);
      cli.out(`Unregistered location ${location.id} (${location.type}:${location.target}) and removed its entities`);
    });

  catalog
    .command('locations')
    .description('list the registered locations')
    .option('--json', 'print the locations as a JSON array')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const wrapped = await client.json<{ data: LocationView }[]>('GET', `${catalogPath}/locations`);
      const locations = wrapped.map((w) => w.data);
      if (opts.json === true) return cli.printJson(locations);
      if (locations.length === 0) return cli.out('No locations registered.');
      cli.out(locationTable(locations));
    });

  catalog
    .command('refresh')
    .description('re-read the location an entity came from now, instead of at the next scheduled refresh')
    .argument('<ref>', '[kind:][namespace/]name; kind defaults to component, namespace to default')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const entityRef = formatEntityRef(parseEntityRef(ref));
      const { client } = await cli.connect(cmd);
      await client.json('POST', `${catalogPath}/refresh`, { body: { entityRef } });
      cli.out(`Refreshed ${entityRef}`);
    });

  catalog
    .command('validate')
    .description('check every entity in a local YAML file against the catalog’s rules without storing anything')
    .argument('<file>', 'a catalog-info.yaml; several documents separated by --- are checked one by one')
    .option('--json', 'print one result per document as JSON')
    .addHelpText(
      'after',
      '\nPlaceholders ($text, $json, $yaml) are not resolved: a field that uses one is checked as the object\n' +
        'it is written as, so e.g. an API whose definition is {$text: ./openapi.yaml} is reported invalid.\n' +
        'Check such a file with plinth catalog register PATH --dry-run, which reads it as a registration does.',
    )
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) => {
      const path = resolve(process.cwd(), file);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new CliError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 1, { cause: err });
      }
      const docs = parseCatalogYaml(text);
      if (docs.length === 0) throw new CliError(`${file} has no YAML documents`);
      const { client } = await cli.connect(cmd);
      const results: DocumentResult[] = [];
      for (const doc of docs) results.push(await validateDocument(client, doc, `file:${path}`));
      if (results.some((r) => !r.valid)) cli.exitCode = 1;
      if (opts.json === true) return cli.printJson(results);
      for (const result of results) cli.out(validationLine(result, file));
    });
}
