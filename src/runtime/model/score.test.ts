import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseScore, scoreToWorkload } from './score.js';
import { scoreSchema } from './score-schema.js';
import { WorkloadSpec } from './workload.js';

const corpus = new URL('../../../../shared/conformance/score/', import.meta.url).pathname;
const schemaFile = join(corpus, 'score-v1b1.json');
const files = ['score-compose-examples', 'spec-samples'].flatMap((dir) => readdirSync(join(corpus, dir)).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f)));
const artifact = { kind: 'directory' as const, path: '/srv/app', digest: `sha256:${'c'.repeat(64)}` };
const outputKeys = ['host', 'port', 'username', 'password', 'name', 'vhost', 'connection', 'server', 'database', 'hostname', 'NAME', 'num_partitions'];

/** Expected outcome per case, from reading each file against what the local runtime supports (one container; file sources read next to score.yaml). */
const expected: Record<string, true | RegExp> = {
  'score-compose-examples/01-hello--score.yaml': true,
  'score-compose-examples/02-environment--score.yaml': true,
  // fileA.txt sits beside score.yaml in score-compose's repository, not in the corpus.
  'score-compose-examples/03-files--score.yaml': /containers\.hello\.files\.\/fileA\.txt\.source: "fileA\.txt" could not be read next to score\.yaml/,
  'score-compose-examples/04-multiple-workloads--score.yaml': /containers: 2 containers \(first, second\)/,
  'score-compose-examples/04-multiple-workloads--score2.yaml': true,
  'score-compose-examples/05-volume-mounts--score.yaml': true,
  'score-compose-examples/06-resource-provisioning--score.yaml': true,
  'score-compose-examples/06-resource-provisioning--score2.yaml': true,
  'score-compose-examples/07-overrides--score.yaml': true,
  'score-compose-examples/08-service-port-resource--scoreA.yaml': true,
  'score-compose-examples/08-service-port-resource--scoreB.yaml': true,
  'score-compose-examples/09-dns-and-route--score.yaml': true,
  'score-compose-examples/10-amqp-rabbitmq--score.yaml': true,
  'score-compose-examples/11-mongodb-document-database--score.yaml': true,
  'score-compose-examples/12-mysql-database--score.yaml': true,
  'score-compose-examples/13-kafka-topic--score.yaml': true,
  'score-compose-examples/14-elasticsearch--score.yaml': true,
  'score-compose-examples/15-mssql-database--score.yaml': true,
  'score-compose-examples/16-patching-templates--score.yaml': true,
  'spec-samples/score-full.yaml': /containers: 2 containers \(container-one1, container-two2\)/,
  'spec-samples/score-deprecated-files-and-volumes.yaml': /containers\.main\.volumes\.\/mnt\/vol\.source: "some-volume" names no resource of type volume/,
};

/** What the resources layer would give: volumes a directory, routes their params (the dns host resolved), the rest `<name>-<output>`. */
function outputsFor(score: ReturnType<typeof parseScore>): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.entries(score.resources ?? {}).map(([name, r]) => {
      if (r.type === 'volume') return [name, { name: `${score.metadata.name}-${name}`, path: `/var/lib/plinth/volumes/staging/${name}` }];
      if (r.type === 'route') return [name, { host: `${score.metadata.name}.staging.localhost`, path: String(r.params?.path ?? '/'), port: String(r.params?.port ?? '') }];
      return [name, Object.fromEntries(outputKeys.map((k) => [k, `${name}-${k}`]))];
    }),
  );
}

function convert(file: string, defaultCommand: string[] = ['node', 'server.js'], fileSources?: Record<string, Buffer>) {
  const score = parseScore(readFileSync(join(corpus, file), 'utf8'), file);
  return scoreToWorkload(score, { environment: 'staging', version: '1.0.0', artifact, resourceOutputs: outputsFor(score), defaultCommand, fileSources }, file);
}

describe('Score conformance', () => {
  it('the embedded schema is the conformance copy, unchanged', () => {
    expect(JSON.parse(JSON.stringify(scoreSchema))).toEqual(JSON.parse(readFileSync(schemaFile, 'utf8')));
  });

  it('covers every file of the corpus', () => {
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  for (const file of files) {
    it(`${file}: ${expected[file] === true ? 'converts' : 'fails naming the unsupported feature'}`, () => {
      const text = readFileSync(join(corpus, file), 'utf8');
      // The schema read in place accepts it, and so does our parser.
      expect(validate(parseScore(text, file))).toBe(true);
      const outcome = expected[file]!;
      if (outcome === true) expect(WorkloadSpec.safeParse(convert(file)).success).toBe(true);
      else expect(() => convert(file)).toThrow(outcome);
    });
  }

  it('carries files as base64 with placeholders resolved, from content, binaryContent and a source read beside score.yaml (03)', () => {
    const spec = WorkloadSpec.parse(convert('score-compose-examples/03-files--score.yaml', undefined, { 'fileA.txt': Buffer.from('A from ${metadata.name}') }));
    const content = Object.fromEntries(spec.files.map((f) => [f.target, Buffer.from(f.content, 'base64').toString('utf8')]));
    expect(content).toEqual({ '/fileA.txt': 'A from hello-world', '/fileB.txt': 'I am hello-world\n', '/fileC.bin': 'hello world' });
  });

  it('mounts volume resources by their outputs and turns route resources into routes (05, 09)', () => {
    const volumes = WorkloadSpec.parse(convert('score-compose-examples/05-volume-mounts--score.yaml'));
    expect(volumes.volumes).toEqual([{ name: 'hello-world-data', target: '/data', source: '/var/lib/plinth/volumes/staging/data', readOnly: false }]);
    const routed = WorkloadSpec.parse(convert('score-compose-examples/09-dns-and-route--score.yaml'));
    expect(routed.routes).toEqual([{ host: 'hello-world.staging.localhost', path: '/my/[^/]+/path', port: 'web' }]);
    expect(routed.files.map((f) => f.target)).toEqual(['/usr/share/nginx/html/my/fizz/path/index.html', '/usr/share/nginx/html/my/buzz/path/index.html']);
  });

  it('refuses a secret output in a file and a volume path that leaves the volume', () => {
    const score = parseScore(
      'apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers:\n  main:\n    image: x\n    files:\n      /etc/app.conf: {content: "password=${resources.db.password}"}\n    volumes:\n      /data: {source: "${resources.data}", path: "../../etc"}\nresources:\n  db: {type: postgres}\n  data: {type: volume}\n',
      'score.yaml',
    );
    const convertIt = () =>
      scoreToWorkload(score, { environment: 'staging', version: '1', artifact, defaultCommand: ['node'], resourceOutputs: { data: { name: 'app-data', path: '/v/app-data' } }, resourceSecrets: { db: { password: 'claim.staging.app-db/password' } } });
    expect(convertIt).toThrow(/files\.\/etc\/app\.conf: a secret resource output cannot go into a file/);
    expect(convertIt).toThrow(/volumes\.\/data\.path: "\.\.\/\.\.\/etc" leaves the volume/);
  });

  it('resolves placeholders and $$ escapes (02-environment)', () => {
    const spec = convert('score-compose-examples/02-environment--score.yaml');
    expect(spec.env).toEqual({ GREETING: 'Hello', NAME: 'env-NAME', WORKLOAD_NAME: 'hello-world', ESCAPED: '$_${fizzbuzz}' });
    expect(spec.args).toEqual(['-c', 'while true; do echo ${GREETING} ${NAME}!; sleep 5; done']);
    expect(spec.resources).toEqual({ env: { type: 'environment' } });
  });

  it('maps ports, exec probes and resource refs (08)', () => {
    const a = convert('score-compose-examples/08-service-port-resource--scoreA.yaml');
    expect(a.ports).toEqual([{ name: 'web', port: 8080, targetPort: 80, protocol: 'TCP' }]);
    expect(a.readiness).toMatchObject({ exec: { command: ['/usr/bin/curl', '-f', '-m', '5', 'http://localhost'] } });
    const b = convert('score-compose-examples/08-service-port-resource--scoreB.yaml');
    expect(b.env).toEqual({ DEPENDENCY_URL: 'http://dependency-hostname:dependency-port' });
    expect(b.resources).toEqual({ dependency: { type: 'service-port', params: { workload: 'workload-a', port: 'web' } } });
  });

  it('says which resource output is missing, and which container has no command', () => {
    const file = 'score-compose-examples/06-resource-provisioning--score.yaml';
    const score = parseScore(readFileSync(join(corpus, file), 'utf8'), file);
    expect(() => scoreToWorkload(score, { environment: 'staging', version: '1', artifact, resourceOutputs: { 'cache-a': { host: 'h' } } })).toThrow(
      /containers\.example\.variables\.CONNECTION: \$\{resources\.cache-a\.username\} has no value: resource "cache-a" \(redis\) has no output "username"/,
    );
    expect(() => convert('score-compose-examples/07-overrides--score.yaml', [])).toThrow(/containers\.web: no command; Plinth runs the artifact, not the image "nginx"/);
  });

  it('turns secret resource outputs into secret env entries, a template when embedded, never spec values', () => {
    const score = parseScore(`apiVersion: score.dev/v1b1
metadata: { name: orders }
containers:
  main:
    image: .
    command: ["node", "main.js"]
    variables:
      PGHOST: \${resources.db.host}
      PGPASSWORD: \${resources.db.password}
      DATABASE_URL: "postgres://\${resources.db.username}:\${resources.db.password}@\${resources.db.host}/\${resources.db.name}"
resources:
  db: { type: postgres }
`, 'score.yaml');
    const options = { environment: 'staging', version: '1', artifact, resourceOutputs: { db: { host: 'pg', username: 'app', name: 'app' } }, resourceSecrets: { db: { password: 'claim.staging.orders-db/password' } } };
    const spec = WorkloadSpec.parse(scoreToWorkload(score, options));
    expect(spec.env).toEqual({ PGHOST: 'pg' });
    expect(spec.secrets).toEqual([
      { env: 'PGPASSWORD', ref: 'claim.staging.orders-db/password' },
      { env: 'DATABASE_URL', ref: 'claim.staging.orders-db/password', template: 'postgres://app:${secret}@pg/app' },
    ]);
    const inArgs = parseScore(`apiVersion: score.dev/v1b1
metadata: { name: orders }
containers:
  main: { image: ., command: ["psql", "\${resources.db.password}"] }
resources:
  db: { type: postgres }
`, 'score.yaml');
    expect(() => scoreToWorkload(inArgs, options)).toThrow(/command\[1\]: a secret resource output cannot go into a command/);
  });

  it('refuses a document that is not Score, listing the problems', () => {
    expect(() => parseScore('apiVersion: score.dev/v1b1\nmetadata: {}\n', 'bad.yaml')).toThrow(/bad\.yaml: not a valid Score workload: .*containers.*name/);
    expect(() => parseScore('a: [', 'broken.yaml')).toThrow(/broken\.yaml: not valid YAML/);
  });
});
