import { parse as parseYaml } from 'yaml';
import { asArray, asObject, asStrings, escapePointer, isObject, readSchema, refName, resolve, str, type Json, type SchemaNode } from './api-schema';

export type { SchemaNode, SchemaProperty } from './api-schema';

/**
 * Reads an API entity's definition (OpenAPI 2/3 or AsyncAPI 2/3, YAML or JSON) into a summary the
 * portal renders: servers, operations or channels, parameters and schemas with local `$ref`s resolved.
 * Pure, so the viewer only draws. Anything it does not understand is left out; the Raw tab shows all.
 */

export interface ApiParameter {
  name: string;
  in: string;
  required: boolean;
  description?: string;
  schema?: SchemaNode;
}

export interface ApiContent {
  mediaType: string;
  schema?: SchemaNode;
}

export interface ApiOperation {
  method: string;
  path: string;
  operationId?: string;
  summary?: string;
  description?: string;
  tags: string[];
  deprecated: boolean;
  parameters: ApiParameter[];
  requestBody?: { required: boolean; description?: string; contents: ApiContent[] };
  responses: { status: string; description?: string; contents: ApiContent[] }[];
}

export interface ApiMessage {
  name?: string;
  title?: string;
  summary?: string;
  contentType?: string;
  payload?: SchemaNode;
  headers?: SchemaNode;
}

export interface ApiChannelOperation {
  /** AsyncAPI 2's `publish`/`subscribe`, AsyncAPI 3's `send`/`receive`. */
  action: string;
  operationId?: string;
  summary?: string;
  description?: string;
  messages: ApiMessage[];
}

export interface ApiChannel {
  name: string;
  address?: string;
  description?: string;
  parameters: ApiParameter[];
  operations: ApiChannelOperation[];
}

export interface ApiServer {
  name?: string;
  url: string;
  protocol?: string;
  description?: string;
}

export interface ApiSummary {
  format: 'openapi' | 'asyncapi';
  specVersion: string;
  title?: string;
  version?: string;
  description?: string;
  servers: ApiServer[];
  operations: ApiOperation[];
  channels: ApiChannel[];
}

const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Parses the definition text; throws with the parser's message when it is not YAML or JSON, or not OpenAPI/AsyncAPI. */
export function summarizeApiDefinition(text: string): ApiSummary {
  const doc: unknown = parseYaml(text, { maxAliasCount: 100 });
  if (!isObject(doc)) throw new Error('the definition is not a YAML or JSON mapping');
  if (typeof doc.openapi === 'string' || typeof doc.swagger === 'string') return summarizeOpenApi(doc);
  if (typeof doc.asyncapi === 'string') return summarizeAsyncApi(doc);
  throw new Error('the definition has neither an `openapi`, `swagger` nor `asyncapi` version field');
}

function summarizeOpenApi(doc: Json): ApiSummary {
  const info = asObject(doc.info);
  const swagger = typeof doc.swagger === 'string';
  const servers: ApiServer[] = swagger
    ? typeof doc.host === 'string'
      ? [{ url: `${asStrings(doc.schemes)[0] ?? 'https'}://${doc.host}${str(doc.basePath) ?? ''}` }]
      : []
    : asArray(doc.servers).flatMap((s) => (isObject(s) && typeof s.url === 'string' ? [{ url: s.url, description: str(s.description) }] : []));

  const operations: ApiOperation[] = [];
  for (const [path, rawItem] of Object.entries(asObject(doc.paths))) {
    const item = asObject(resolve(doc, rawItem));
    const shared = asArray(item.parameters);
    for (const method of httpMethods) {
      const op = item[method];
      if (!isObject(op)) continue;
      const parameters = [...shared, ...asArray(op.parameters)].map((p) => asObject(resolve(doc, p)));
      const bodyParam = parameters.find((p) => p.in === 'body');
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: str(op.operationId),
        summary: str(op.summary),
        description: str(op.description),
        tags: asStrings(op.tags),
        deprecated: op.deprecated === true,
        parameters: dedupeParameters(parameters.filter((p) => p.in !== 'body').map((p) => readParameter(doc, p))),
        requestBody: swagger
          ? bodyParam === undefined
            ? undefined
            : { required: bodyParam.required === true, description: str(bodyParam.description), contents: [{ mediaType: 'application/json', schema: readSchema(doc, bodyParam.schema) }] }
          : readRequestBody(doc, op.requestBody),
        responses: Object.entries(asObject(op.responses)).map(([status, raw]) => {
          const response = asObject(resolve(doc, raw));
          return {
            status,
            description: str(response.description),
            contents: swagger
              ? response.schema === undefined
                ? []
                : [{ mediaType: 'application/json', schema: readSchema(doc, response.schema) }]
              : readContents(doc, response.content),
          };
        }),
      });
    }
  }
  return {
    format: 'openapi',
    specVersion: str(doc.openapi) ?? str(doc.swagger) ?? '',
    title: str(info.title),
    version: str(info.version),
    description: str(info.description),
    servers,
    operations,
    channels: [],
  };
}

function readRequestBody(doc: Json, raw: unknown): ApiOperation['requestBody'] {
  if (raw === undefined) return undefined;
  const body = asObject(resolve(doc, raw));
  return { required: body.required === true, description: str(body.description), contents: readContents(doc, body.content) };
}

function readContents(doc: Json, content: unknown): ApiContent[] {
  return Object.entries(asObject(content)).map(([mediaType, raw]) => {
    const media = asObject(raw);
    return { mediaType, schema: media.schema === undefined ? undefined : readSchema(doc, media.schema) };
  });
}

function readParameter(doc: Json, p: Json): ApiParameter {
  // OpenAPI 2 puts type and format on the parameter itself.
  const schema = p.schema !== undefined ? readSchema(doc, p.schema) : p.type !== undefined ? readSchema(doc, p) : undefined;
  return { name: str(p.name) ?? '?', in: str(p.in) ?? 'query', required: p.required === true, description: str(p.description), schema };
}

/** An operation's own parameter replaces the path item's one of the same name and place. */
function dedupeParameters(parameters: ApiParameter[]): ApiParameter[] {
  const byKey = new Map<string, ApiParameter>();
  for (const p of parameters) byKey.set(`${p.in}:${p.name}`, p);
  return [...byKey.values()];
}

function summarizeAsyncApi(doc: Json): ApiSummary {
  const info = asObject(doc.info);
  const specVersion = str(doc.asyncapi) ?? '';
  const servers = Object.entries(asObject(doc.servers)).map(([name, raw]) => {
    const server = asObject(resolve(doc, raw));
    const url = str(server.url) ?? [str(server.host), str(server.pathname)].filter(Boolean).join('');
    return { name, url, protocol: str(server.protocol), description: str(server.description) };
  });
  const v3 = specVersion.startsWith('3');
  const channels: ApiChannel[] = Object.entries(asObject(doc.channels)).map(([name, raw]) => {
    const channel = asObject(resolve(doc, raw));
    const parameters = Object.entries(asObject(channel.parameters)).map(([pname, praw]) => {
      const p = asObject(resolve(doc, praw));
      return { name: pname, in: 'channel', required: true, description: str(p.description), schema: p.schema === undefined ? undefined : readSchema(doc, p.schema) };
    });
    const operations: ApiChannelOperation[] = v3
      ? v3OperationsOf(doc, name, raw)
      : (['publish', 'subscribe'] as const).flatMap((action) => {
          const op = channel[action];
          if (!isObject(op)) return [];
          return [{ action, operationId: str(op.operationId), summary: str(op.summary), description: str(op.description), messages: readMessages(doc, op.message) }];
        });
    return { name, address: v3 ? str(channel.address) : undefined, description: str(channel.description), parameters, operations };
  });
  return { format: 'asyncapi', specVersion, title: str(info.title), version: str(info.version), description: str(info.description), servers, operations: [], channels };
}

/** AsyncAPI 3 keeps operations apart from channels; each names its channel by `$ref`. */
function v3OperationsOf(doc: Json, channelName: string, rawChannel: unknown): ApiChannelOperation[] {
  const channel = asObject(resolve(doc, rawChannel));
  return Object.entries(asObject(doc.operations)).flatMap(([id, raw]) => {
    const op = asObject(resolve(doc, raw));
    const ref = asObject(op.channel).$ref;
    if (ref !== `#/channels/${escapePointer(channelName)}`) return [];
    const messages = asArray(op.messages).length > 0 ? asArray(op.messages) : Object.values(asObject(channel.messages));
    return [{ action: str(op.action) ?? 'send', operationId: id, summary: str(op.summary), description: str(op.description), messages: messages.flatMap((m) => readMessages(doc, m)) }];
  });
}

function readMessages(doc: Json, raw: unknown): ApiMessage[] {
  const message = asObject(resolve(doc, raw));
  if (Array.isArray(message.oneOf)) return message.oneOf.flatMap((m) => readMessages(doc, m));
  if (Object.keys(message).length === 0) return [];
  return [
    {
      name: str(message.name) ?? refName(raw),
      title: str(message.title),
      summary: str(message.summary) ?? str(message.description),
      contentType: str(message.contentType) ?? str(doc.defaultContentType),
      payload: message.payload === undefined ? undefined : readSchema(doc, message.payload),
      headers: message.headers === undefined ? undefined : readSchema(doc, message.headers),
    },
  ];
}

