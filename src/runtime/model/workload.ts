import { posix } from 'node:path';
import { z } from 'zod';
import { hostNameProblem } from '../../kernel/index.js';
import { routePathProblem } from './route-path.js';

/** A DNS label: what Kubernetes accepts as a name and what the gateway puts in a host name. */
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and "-", starting with a letter and ending with a letter or digit');

/** Kubernetes quantities as Score and Kubernetes write them: `128Mi`, `1G`, `500m`, `0.25`. */
const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, 'must be a quantity such as 256Mi, 1G, 500m or 0.5');

export const HttpProbe = z.strictObject({
  path: z.string().startsWith('/', 'must start with "/"').max(1000),
  /** The replica's own port (the PORT it was given) when absent. */
  port: z.number().int().min(1).max(65535).optional(),
});

export const Probe = z
  .strictObject({
    http: HttpProbe.optional(),
    exec: z.strictObject({ command: z.array(z.string().min(1)).min(1).max(100) }).optional(),
    periodMs: z.number().int().min(50).max(300_000).default(1000),
    timeoutMs: z.number().int().min(50).max(60_000).default(1000),
    failureThreshold: z.number().int().min(1).max(100).default(3),
    /** Readiness only: how long a replica may take to become ready before the release fails. */
    deadlineMs: z.number().int().min(100).max(600_000).default(30_000),
  })
  .refine((p) => (p.http === undefined) !== (p.exec === undefined), { message: 'a probe has exactly one of http or exec' });
export type Probe = z.infer<typeof Probe>;

export const Artifact = z.strictObject({
  kind: z.enum(['directory', 'tarball']),
  /** Absolute path of the directory or `.tar`/`.tar.gz` file. */
  path: z.string().startsWith('/', 'must be an absolute path').max(4096),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>'),
  /** The image a Kubernetes runtime would run; the local runtime runs the artifact itself. */
  image: z.string().max(500).optional(),
});
export type Artifact = z.infer<typeof Artifact>;

/** Where a secret's value goes in a secret env template. */
export const SECRET_PLACEHOLDER = '${secret}';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

export const WorkloadPort = z.strictObject({
  name: dnsLabel,
  /** The port the Service exposes. */
  port: z.number().int().min(1).max(65535),
  /** The port the process listens on (in a cluster); the local runtime allocates one and passes it as PORT. */
  targetPort: z.number().int().min(1).max(65535).optional(),
  protocol: z.enum(['TCP', 'UDP']).default('TCP'),
});

export const ResourceRef = z.strictObject({
  type: z.string().min(1).max(100),
  class: z.string().max(100).optional(),
  id: z.string().max(200).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

/** Where a file or volume appears in a replica's file system: absolute, normalized, not the root nor a kernel file system. */
const mountTarget = z
  .string()
  .max(1024)
  .refine((t) => t.startsWith('/') && posix.normalize(t) === t && t !== '/' && !t.endsWith('/'), 'must be a normalized absolute path other than "/" (no "..", "//" or trailing "/")')
  .refine((t) => !/^\/(proc|dev|sys)(\/|$)/.test(t), 'must not be under /proc, /dev or /sys');

/** A file a replica sees at `target` (Score `files`), read-only; its content travels in the spec. */
export const WorkloadFile = z.strictObject({
  target: mountTarget,
  /** The content, base64-encoded (text and binary alike). */
  content: z.string().max(1_400_000).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
  /** Octal permission bits, e.g. "0644" (default "0444": the file is read-only either way). */
  mode: z.string().regex(/^0?[0-7]{3}$/, 'must be octal permission bits such as 0644').optional(),
});
export type WorkloadFile = z.infer<typeof WorkloadFile>;

/** A directory of a `volume` resource a replica sees at `target` (Score `volumes`). */
export const WorkloadVolume = z.strictObject({
  /** The volume's name (its claim's): a cluster mounts the PersistentVolumeClaim of this name. */
  name: dnsLabel,
  target: mountTarget,
  /** The volume's directory on the host; the local runtime accepts only directories under its volume root. */
  source: z.string().startsWith('/', 'must be an absolute path').max(4096),
  readOnly: z.boolean().default(false),
});
export type WorkloadVolume = z.infer<typeof WorkloadVolume>;

/**
 * A host name and path the gateway routes to the service besides its own host (Score `route`). The path
 * is a prefix matched by whole segments (`/api` matches `/api` and `/api/x`, not `/apix`), or a pattern
 * with `.`, `[...]` classes and `*`, `+`, `?` (`/my/[^/]+/path`), matched from the start of the path.
 */
export const WorkloadRoute = z.strictObject({
  host: z.string().max(253).superRefine((h, ctx) => {
    const problem = hostNameProblem(h);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `must be a DNS host name: ${problem}` });
  }),
  path: z
    .string()
    .max(256)
    .default('/')
    .superRefine((p, ctx) => {
      const problem = routePathProblem(p);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** The service port (name or number) the route sends to; the first port when absent. */
  port: z.union([dnsLabel, z.number().int().min(1).max(65535)]).optional(),
});
export type WorkloadRoute = z.infer<typeof WorkloadRoute>;

const ResourceQuantities = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

/**
 * Every deployable thing, whatever runtime runs it (issue #6). What was asked, immutable per release;
 * what is (replica phases, ports) lives in the driver's status.
 */
export const WorkloadSpec = z.strictObject({
  service: dnsLabel,
  environment: dnsLabel,
  /** What is deployed: a commit, a semver, a build number. Unique per service and environment. */
  version: z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be letters, digits, ".", "_", "+" or "-"'),
  artifact: Artifact,
  /** argv of the process; `args` are appended (as in Kubernetes). Runs with the unpacked artifact as cwd. */
  command: z.array(z.string().min(1).max(4096)).min(1).max(100),
  args: z.array(z.string().max(4096)).max(100).default([]),
  ports: z.array(WorkloadPort).max(10).default([]),
  env: z.record(envName, z.string().max(32_768)).default({}),
  /** Environment variables whose values come from the secret store at start, never from the spec. */
  secrets: z
    .array(
      z.strictObject({
        env: envName,
        ref: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\/[-._a-zA-Z0-9]+)?$/, 'must be <secret-name> or <secret-name>/<key>'),
        /**
         * The variable's value with the secret in place of `${secret}` (a connection string that embeds a
         * password: `postgres://app:${secret}@db:5432/app`); the secret's value alone when absent.
         */
        template: z.string().max(32_768).refine((t) => t.split(SECRET_PLACEHOLDER).length === 2, `must contain ${SECRET_PLACEHOLDER} exactly once`).optional(),
      }),
    )
    .max(100)
    .default([]),
  resources: z.record(z.string().regex(/^[a-z0-9][-a-z0-9_]*$/i), ResourceRef).default({}),
  replicas: z.number().int().min(0).max(50).default(1),
  readiness: Probe.optional(),
  liveness: Probe.optional(),
  limits: ResourceQuantities.default({}),
  requests: ResourceQuantities.default({}),
  /** SIGTERM → SIGKILL grace period on stop. */
  terminationGraceMs: z.number().int().min(0).max(600_000).default(10_000),
  files: z.array(WorkloadFile).max(50).default([]),
  volumes: z.array(WorkloadVolume).max(20).default([]),
  routes: z.array(WorkloadRoute).max(20).default([]),
  /** Labels the manifests carry, e.g. `owner` and `cost-center` (the built-in guardrails require both). */
  labels: z.record(z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'must be a Kubernetes label key'), z.string().max(63).regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a Kubernetes label value')).default({}),
}).superRefine((spec, ctx) => {
  // One thing per place: a file or volume inside another's target would be hidden by it, or hide it.
  const targets = [...spec.files.map((f, i) => ({ t: f.target, path: ['files', i, 'target'] })), ...spec.volumes.map((v, i) => ({ t: v.target, path: ['volumes', i, 'target'] }))];
  for (const [i, a] of targets.entries()) {
    const clash = targets.slice(0, i).find((b) => b.t === a.t || a.t.startsWith(`${b.t}/`) || b.t.startsWith(`${a.t}/`));
    if (clash) ctx.addIssue({ code: 'custom', path: a.path, message: `${a.t} overlaps ${clash.t}; each file and volume needs a place of its own` });
  }
  const contentBytes = spec.files.reduce((n, f) => n + Math.floor((f.content.length * 3) / 4), 0);
  if (contentBytes > 1024 * 1024) ctx.addIssue({ code: 'custom', path: ['files'], message: `hold ${contentBytes} bytes; files travel in the spec and may hold 1 MiB in all — put larger data in the artifact or a volume` });
  for (const [i, r] of spec.routes.entries()) {
    if (r.port === undefined) continue;
    if (!spec.ports.some((p) => p.name === r.port || p.port === r.port)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'port'], message: `names no port of the service (${spec.ports.map((p) => `${p.name}:${p.port}`).join(', ') || 'none declared'})` });
  }
  const seen = new Set<string>();
  for (const [i, r] of spec.routes.entries()) {
    const key = `${r.host} ${r.path}`;
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['routes', i], message: `routes ${r.host}${r.path} twice` });
    seen.add(key);
  }
});
export type WorkloadSpec = z.infer<typeof WorkloadSpec>;
/** A spec as written, before defaults. */
export type WorkloadSpecInput = z.input<typeof WorkloadSpec>;

/** Parses a workload spec, or throws one message listing every problem with its path. */
export function parseWorkloadSpec(input: unknown): WorkloadSpec {
  const result = WorkloadSpec.safeParse(input);
  if (result.success) return result.data;
  throw new Error(result.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`).join('; '));
}

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const decimal: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };

/** `256Mi` → 268435456. */
export function quantityToBytes(q: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(q);
  if (!m) throw new Error(`"${q}" is not a quantity`);
  const unit = m[2]!;
  const factor = unit === '' ? 1 : (binary[unit] ?? decimal[unit]);
  if (factor === undefined) throw new Error(`"${q}": unknown unit ${unit}`);
  return Math.round(Number(m[1]) * factor);
}

/** `500m` → 500, `0.25` → 250. */
export function quantityToMillicores(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

export { DEFAULT_BASE_DOMAIN, gatewayHost } from '../../kernel/index.js';
