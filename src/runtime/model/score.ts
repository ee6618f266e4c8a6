import { posix } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../kernel/index.js';
import { scoreSchema } from './score-schema.js';
import { SECRET_PLACEHOLDER, WorkloadSpec, type Artifact, type Probe, type WorkloadSpecInput } from './workload.js';

/** A score.yaml after schema validation: the parts Plinth reads (score.dev/v1b1). */
export interface ScoreWorkload {
  apiVersion: string;
  metadata: { name: string; annotations?: Record<string, string> } & Record<string, unknown>;
  service?: { ports?: Record<string, { port: number; protocol?: 'TCP' | 'UDP'; targetPort?: number }> };
  containers: Record<string, ScoreContainer>;
  resources?: Record<string, { type: string; class?: string; id?: string; params?: Record<string, unknown>; metadata?: Record<string, unknown> }>;
}

interface ScoreProbe {
  httpGet?: { scheme?: 'HTTP' | 'HTTPS'; host?: string; path: string; port: number; httpHeaders?: { name: string; value: string }[] };
  exec?: { command: string[] };
}

interface ScoreFile {
  source?: string;
  content?: string;
  binaryContent?: string;
  mode?: string;
  noExpand?: boolean;
}

interface ScoreVolume {
  source: string;
  path?: string;
  readOnly?: boolean;
}

interface ScoreContainer {
  image: string;
  command?: string[];
  args?: string[];
  variables?: Record<string, string>;
  /** A map by target, or the deprecated array of entries with a `target`. */
  files?: Record<string, ScoreFile> | (ScoreFile & { target: string })[];
  volumes?: Record<string, ScoreVolume> | (ScoreVolume & { target: string })[];
  resources?: { limits?: { cpu?: string; memory?: string }; requests?: { cpu?: string; memory?: string } };
  livenessProbe?: ScoreProbe;
  readinessProbe?: ScoreProbe;
}

const MAX_SCORE_BYTES = 256 * 1024;
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateScore = ajv.compile<ScoreWorkload>(scoreSchema);

const describeError = (e: ErrorObject) =>
  `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` ("${String((e.params as { additionalProperty: string }).additionalProperty)}")` : ''}`;

/** Parses score.yaml text against the Score JSON Schema; one InputError lists every problem. */
export function parseScore(text: string, source: string): ScoreWorkload {
  if (Buffer.byteLength(text) > MAX_SCORE_BYTES) throw new InputError(`${source}: larger than ${MAX_SCORE_BYTES} bytes`);
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new InputError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (!validateScore(value)) {
    throw new InputError(`${source}: not a valid Score workload: ${(validateScore.errors ?? []).map(describeError).join('; ')}`);
  }
  return value;
}

/** What a Score workload becomes a release with: where it runs, what it runs, and the resources' outputs. */
export interface ScoreConversion {
  environment: string;
  version: string;
  artifact: Artifact;
  /** Outputs of the workload's resources by resource name (`${resources.db.host}` reads `db.host`); the resources layer fills them. */
  resourceOutputs?: Record<string, Record<string, string>>;
  /**
   * Outputs that are secrets, as secret-store refs by resource and output name (`db.password` →
   * `claim.staging.orders-db/password`): a variable using one becomes a secret env entry (a template
   * when the secret is part of a longer value), so its value never enters the spec.
   */
  resourceSecrets?: Record<string, Record<string, string>>;
  /**
   * The files `files.<target>.source` names, by the source as written (read relative to score.yaml by
   * the caller, which knows where it came from); a source missing here is refused.
   */
  fileSources?: Readonly<Record<string, Buffer>>;
  /** The command when the container names only an image (the local runtime runs the artifact, not the image). */
  defaultCommand?: string[];
  replicas?: number;
}

/** Brackets a secret ref in a resolved value until the variable becomes a secret env entry (a private-use character, refused in Score text by resolvePlaceholders). */
const SECRET_MARK = '\uE000';
const secretRefsIn = (value: string) => [...value.matchAll(/\uE000([^\uE000]*)\uE000/g)].map((m) => m[1]!);

/**
 * Resolves Score placeholders in one string: `${metadata.name}`, `${metadata.annotations.x}`,
 * `${resources.<name>.<output>}`; `$$` escapes a `$` (Score spec, "Placeholder references").
 */
export function resolvePlaceholders(value: string, where: string, score: ScoreWorkload, outputs: Record<string, Record<string, string>>, problems: string[], secretRefs?: Record<string, Record<string, string>>): string {
  if (value.includes(SECRET_MARK)) {
    problems.push(`${where}: contains the private-use character U+E000, which Plinth reserves`);
    return value;
  }
  return value.replace(/\$\$|\$\{([^}]*)\}/g, (match, ref: string | undefined) => {
    if (match === '$$') return '$';
    const parts = ref!.split('.');
    if (parts[0] === 'metadata' && parts.length >= 2) {
      let node: unknown = score.metadata;
      for (const p of parts.slice(1)) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[p] : undefined;
      if (typeof node === 'string' || typeof node === 'number') return String(node);
      problems.push(`${where}: \${${ref}} names no metadata value`);
      return match;
    }
    if (parts[0] === 'resources' && parts.length >= 3) {
      const name = parts[1]!;
      const key = parts.slice(2).join('.');
      if (!score.resources?.[name]) {
        problems.push(`${where}: \${${ref}} refers to resource "${name}", which the workload does not declare`);
        return match;
      }
      const secretRef = secretRefs?.[name]?.[key];
      if (secretRef !== undefined) return `${SECRET_MARK}${secretRef}${SECRET_MARK}`;
      const output = outputs[name]?.[key];
      if (output === undefined) {
        problems.push(`${where}: \${${ref}} has no value: resource "${name}" (${score.resources[name].type}) has no output "${key}" yet`);
        return match;
      }
      return output;
    }
    problems.push(`${where}: unsupported placeholder \${${ref}}; use \${metadata.<key>} or \${resources.<name>.<output>}`);
    return match;
  });
}

function convertProbe(probe: ScoreProbe | undefined, where: string, problems: string[]): Probe | undefined {
  if (!probe) return undefined;
  // The execProbe is preferred when both are given (Score schema, containerProbe description).
  if (probe.exec) return { exec: { command: probe.exec.command }, periodMs: 1000, timeoutMs: 1000, failureThreshold: 3, deadlineMs: 30_000 };
  const http = probe.httpGet!;
  if (http.scheme === 'HTTPS') problems.push(`${where}.httpGet.scheme: HTTPS probes are not supported; the local runtime probes over HTTP`);
  if (http.host !== undefined && !['localhost', '127.0.0.1'].includes(http.host)) problems.push(`${where}.httpGet.host: probes go to the replica itself; "${http.host}" is not supported`);
  if (http.httpHeaders && http.httpHeaders.length > 0) problems.push(`${where}.httpGet.httpHeaders: probe headers are not supported`);
  return { http: { path: http.path }, periodMs: 1000, timeoutMs: 1000, failureThreshold: 3, deadlineMs: 30_000 };
}

/**
 * Score → workload spec. The local runtime runs one process per workload, so a workload has one
 * container. Files travel in the spec (placeholders resolved unless `noExpand`), volumes name `volume`
 * resources, `route` resources become routes. Anything unsupported is named in one InputError.
 */
export function scoreToWorkload(score: ScoreWorkload, options: ScoreConversion, source = 'score.yaml'): WorkloadSpecInput {
  const problems: string[] = [];
  const outputs = options.resourceOutputs ?? {};
  const containerNames = Object.keys(score.containers);
  if (containerNames.length !== 1) {
    problems.push(`containers: ${containerNames.length} containers (${containerNames.join(', ')}); Plinth runs one container per workload — split them into one workload each`);
  }
  const name = containerNames[0]!;
  const c = score.containers[name]!;
  const at = `containers.${name}`;
  const secretRefs = options.resourceSecrets ?? {};
  /** Secret outputs belong in variables only: in argv they would show in every process listing. */
  const noSecret = (value: string, where: string) => {
    if (secretRefsIn(value).length > 0) problems.push(`${where}: a secret resource output cannot go into a command or its arguments; pass it in a variable`);
    return value;
  };
  const command = [...(c.command ?? options.defaultCommand ?? [])].map((v, i) => noSecret(resolvePlaceholders(v, `${at}.command[${i}]`, score, outputs, problems, secretRefs), `${at}.command[${i}]`));
  if (command.length === 0) {
    problems.push(`${at}: no command; Plinth runs the artifact, not the image "${c.image}" — set ${at}.command or give a default command`);
  }
  const args = (c.args ?? []).map((v, i) => noSecret(resolvePlaceholders(v, `${at}.args[${i}]`, score, outputs, problems, secretRefs), `${at}.args[${i}]`));
  const env: Record<string, string> = {};
  const secrets: { env: string; ref: string; template?: string }[] = [];
  for (const [k, v] of Object.entries(c.variables ?? {})) {
    const resolved = resolvePlaceholders(v, `${at}.variables.${k}`, score, outputs, problems, secretRefs);
    const refs = secretRefsIn(resolved);
    if (refs.length === 0) env[k] = resolved;
    else if (refs.length > 1) problems.push(`${at}.variables.${k}: uses ${refs.length} secret resource outputs; one variable may hold one secret`);
    else {
      const marked = `${SECRET_MARK}${refs[0]!}${SECRET_MARK}`;
      secrets.push({ env: k, ref: refs[0]!, ...(resolved === marked ? {} : { template: resolved.replace(marked, () => SECRET_PLACEHOLDER) }) });
    }
  }
  const readiness = convertProbe(c.readinessProbe, `${at}.readinessProbe`, problems);
  const liveness = convertProbe(c.livenessProbe, `${at}.livenessProbe`, problems);
  const ports = Object.entries(score.service?.ports ?? {}).map(([portName, p]) => ({ name: portName, port: p.port, targetPort: p.targetPort, protocol: p.protocol ?? 'TCP' }));
  const resources = Object.fromEntries(
    Object.entries(score.resources ?? {}).map(([resName, r]) => [resName, { type: r.type, class: r.class, id: r.id, params: r.params }]),
  );
  const files = convertFiles(c.files, at, score, outputs, secretRefs, options.fileSources ?? {}, problems);
  const volumes = convertVolumes(c.volumes, at, score, outputs, problems);
  const routes = convertRoutes(score, outputs, problems);
  if (problems.length > 0) throw new InputError(`${source}: ${problems.join('; ')}`);
  const spec: WorkloadSpecInput = {
    service: score.metadata.name,
    environment: options.environment,
    version: options.version,
    artifact: options.artifact.image === undefined ? { ...options.artifact, image: c.image } : options.artifact,
    command,
    args,
    ports,
    env,
    secrets,
    resources,
    replicas: options.replicas ?? 1,
    readiness,
    liveness,
    limits: { ...c.resources?.limits },
    requests: { ...c.resources?.requests },
    files,
    volumes,
    routes,
  };
  const checked = WorkloadSpec.safeParse(spec);
  if (!checked.success) {
    throw new InputError(`${source}: ${checked.error.issues.map((i) => `${scorePath(i.path)}: ${i.message}`).join('; ')}`);
  }
  return spec;
}

/** Score's map form (by target) and its deprecated array form, as one list. */
function byTarget<T extends object>(value: Record<string, T> | (T & { target: string })[] | undefined): { target: string; spec: T }[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map(({ target, ...spec }) => ({ target, spec: spec as unknown as T }));
  return Object.entries(value).map(([target, spec]) => ({ target, spec }));
}

/** The source files name, to read next to score.yaml before converting (see ScoreConversion.fileSources). */
export function scoreFileSources(score: ScoreWorkload): string[] {
  return Object.values(score.containers).flatMap((c) => byTarget(c.files).flatMap((f) => (f.spec.source === undefined ? [] : [f.spec.source])));
}

function convertFiles(
  files: ScoreContainer['files'],
  at: string,
  score: ScoreWorkload,
  outputs: Record<string, Record<string, string>>,
  secretRefs: Record<string, Record<string, string>>,
  sources: Readonly<Record<string, Buffer>>,
  problems: string[],
): { target: string; content: string; mode?: string }[] {
  return byTarget(files).flatMap(({ target, spec: f }) => {
    const where = `${at}.files.${target}`;
    let bytes: Buffer;
    if (f.binaryContent !== undefined) bytes = Buffer.from(f.binaryContent, 'base64');
    else {
      let text: string;
      if (f.content !== undefined) text = f.content;
      else if (f.source !== undefined && sources[f.source] !== undefined) text = sources[f.source]!.toString('utf8');
      else {
        problems.push(`${where}.source: "${f.source ?? ''}" could not be read next to score.yaml; inline it as content`);
        return [];
      }
      if (!f.noExpand) {
        text = resolvePlaceholders(text, where, score, outputs, problems, secretRefs);
        if (secretRefsIn(text).length > 0) {
          problems.push(`${where}: a secret resource output cannot go into a file (files travel in the spec); pass it in a variable`);
          return [];
        }
      }
      bytes = Buffer.from(text, 'utf8');
    }
    return [{ target, content: bytes.toString('base64'), ...(f.mode !== undefined ? { mode: f.mode } : {}) }];
  });
}

/** A volume's `source`: `${resources.<name>}` or the bare name of a `volume` resource; its outputs give the directory. */
function convertVolumes(volumes: ScoreContainer['volumes'], at: string, score: ScoreWorkload, outputs: Record<string, Record<string, string>>, problems: string[]): { name: string; target: string; source: string; readOnly: boolean }[] {
  return byTarget(volumes).flatMap(({ target, spec: v }) => {
    const where = `${at}.volumes.${target}`;
    const name = /^\$\{resources\.([^.}]+)\}$/.exec(v.source)?.[1] ?? v.source;
    const resource = score.resources?.[name];
    if (resource?.type !== 'volume') {
      problems.push(`${where}.source: "${v.source}" names no resource of type volume; declare one under resources and write \${resources.<name>}`);
      return [];
    }
    const out = outputs[name];
    if (out?.path === undefined || out.name === undefined) {
      problems.push(`${where}.source: volume resource "${name}" has no path yet`);
      return [];
    }
    const sub = v.path === undefined ? '' : posix.normalize(`/${v.path}`).replace(/\/$/, '');
    if (v.path !== undefined && v.path.split('/').includes('..')) {
      problems.push(`${where}.path: "${v.path}" leaves the volume`);
      return [];
    }
    return [{ name: out.name, target, source: `${out.path}${sub}`, readOnly: v.readOnly ?? false }];
  });
}

/** `route` resources: their outputs (host, path, port) become the workload's routes. */
function convertRoutes(score: ScoreWorkload, outputs: Record<string, Record<string, string>>, problems: string[]): { host: string; path: string; port?: string | number }[] {
  return Object.entries(score.resources ?? {}).flatMap(([name, r]) => {
    if (r.type !== 'route') return [];
    const out = outputs[name];
    if (out?.host === undefined) {
      problems.push(`resources.${name}: route has no host yet`);
      return [];
    }
    const port = out.port === undefined || out.port === '' ? undefined : /^[0-9]+$/.test(out.port) ? Number(out.port) : out.port;
    return [{ host: out.host, path: out.path ?? '/', ...(port !== undefined ? { port } : {}) }];
  });
}

/** A workload spec path as the place in score.yaml it came from. */
function scorePath(path: readonly PropertyKey[]): string {
  const head = String(path[0]);
  if (head === 'service') return 'metadata.name';
  return path.map(String).join('.');
}
