import { CACHE_HIT_ENV, cacheSpecFor, type CacheSpec } from './caches.js';
import type { PipelineDefinition } from './definition.js';

// ---- Language presets for the build stage -----------------------------------------------------------
// Chosen by what the repository holds (pure: the runner reads the files and probes the toolchains).

export const toolchains = ['node', 'npm', 'pnpm', 'yarn', 'python3', 'go', 'cargo'] as const;
export type Toolchain = (typeof toolchains)[number];

export interface RepositoryFacts {
  /** Names of the files at the repository root. */
  rootFiles: ReadonlySet<string>;
  /** package.json's text, when present. */
  packageJson?: string;
  /** Toolchains found on the runner's PATH. */
  available: ReadonlySet<Toolchain>;
}

/** The shell steps of the standard pipeline whose commands come from the preset. */
type PresetStep = 'install' | 'compile' | 'unit-test' | 'lint' | 'integration-test';
/** A command per preset step, or the reason there is none. */
export type BuildCommands = Record<PresetStep, { command: string } | { reason: string }>;

export interface Preset {
  language: 'node' | 'python' | 'go' | 'rust' | 'none';
  /** What the preset chose and why, printed in the config step's log. */
  summary: string;
  commands: BuildCommands;
  /** The package-manager cache the runner restores before `install` and saves after it (see caches.ts). */
  cache?: CacheSpec;
}

const none = (reason: string): { reason: string } => ({ reason });
const allMissing = (reason: string): BuildCommands => ({ install: none(reason), compile: none(reason), 'unit-test': none(reason), lint: none(reason), 'integration-test': none(reason) });
/** Integration tests run against the staging deployment; only Node names a convention for them. */
const noIntegrationTests = none('no integration tests for this language preset; add an integration-test command in plinth.yaml');
/** npm init's placeholder test script, which always fails: treated as no test script. */
const npmPlaceholderTest = /no test specified/;

interface PackageJson {
  scripts: Record<string, string>;
  dependencyCount: number;
}

function readPackageJson(text: string | undefined): PackageJson | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const strings = (v: unknown): Record<string, string> =>
    typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
  const scripts = strings(record.scripts);
  const dependencyCount = ['dependencies', 'devDependencies', 'optionalDependencies'].reduce((n, k) => n + Object.keys(strings(record[k])).length, 0);
  return { scripts, dependencyCount };
}

/**
 * `npm ci` deletes node_modules first, so after the exact cache key restored the installed tree the step
 * runs `npm install --no-save` instead: it checks that tree against the lockfile and changes only what
 * differs (nothing, when the key matched) without rewriting the lockfile; that is what makes a warm install fast.
 */
const npmCi = `if [ "$${CACHE_HIT_ENV}" = true ]; then npm install --no-save --no-audit --no-fund; else npm ci --no-audit --no-fund; fi`;

function nodePreset(facts: RepositoryFacts): Preset {
  const pkg = readPackageJson(facts.packageJson);
  if (!pkg) return { language: 'node', summary: 'node: package.json is not valid JSON', commands: allMissing('package.json is not valid JSON') };
  const manager = facts.rootFiles.has('pnpm-lock.yaml') ? 'pnpm' : facts.rootFiles.has('yarn.lock') ? 'yarn' : 'npm';
  if (!facts.available.has(manager) || !facts.available.has('node')) {
    return { language: 'node', summary: `node (${manager}): not on this runner`, commands: allMissing(`${manager} is not installed on this runner`) };
  }
  const locked = { npm: 'package-lock.json', pnpm: 'pnpm-lock.yaml', yarn: 'yarn.lock' }[manager];
  const install =
    pkg.dependencyCount === 0 ? none('package.json declares no dependencies')
    : manager === 'npm' ? { command: facts.rootFiles.has(locked) ? npmCi : 'npm install --no-audit --no-fund' }
    : manager === 'pnpm' ? { command: 'pnpm install --frozen-lockfile' }
    : { command: 'yarn install --frozen-lockfile' };
  const script = (name: string, ...alternatives: string[]) => {
    const found = [name, ...alternatives].find((s) => pkg.scripts[s] !== undefined && !(s === 'test' && npmPlaceholderTest.test(pkg.scripts[s]!)));
    return found !== undefined ? { command: `${manager} run ${found}` } : none(`package.json has no ${name} script`);
  };
  return {
    language: 'node',
    summary: `node with ${manager}${facts.rootFiles.has(locked) ? ` (${locked})` : ''}`,
    commands: { install, compile: script('build', 'compile'), 'unit-test': script('test'), lint: script('lint'), 'integration-test': script('test:integration') },

    ...('command' in install ? { cache: cacheSpecFor(manager, facts.rootFiles) } : {}),
  };
}

function pythonPreset(facts: RepositoryFacts): Preset {
  if (!facts.available.has('python3')) return { language: 'python', summary: 'python: not on this runner', commands: allMissing('python3 is not installed on this runner') };
  const install = facts.rootFiles.has('requirements.txt') ? { command: 'python3 -m pip install -r requirements.txt' } : facts.rootFiles.has('pyproject.toml') ? { command: 'python3 -m pip install .' } : none('no requirements.txt or pyproject.toml');
  return {
    language: 'python',
    summary: 'python',
    ...('command' in install ? { cache: cacheSpecFor('pip', facts.rootFiles) } : {}),
    commands: {
      install,
      compile: { command: 'python3 -m compileall -q .' },
      'unit-test': { command: 'if python3 -c "import pytest" 2>/dev/null; then python3 -m pytest --junitxml=junit-report.xml; else python3 -m unittest discover; fi' },
      lint: none('no linter configured; add one in plinth.yaml'),
      'integration-test': noIntegrationTests,
    },
  };
}

function goPreset(facts: RepositoryFacts): Preset {
  if (!facts.available.has('go')) return { language: 'go', summary: 'go: not on this runner', commands: allMissing('go is not installed on this runner') };
  return { language: 'go', summary: 'go', cache: cacheSpecFor('go', facts.rootFiles), commands: { install: { command: 'go mod download' }, compile: { command: 'go build ./...' }, 'unit-test': { command: 'go test ./...' }, lint: { command: 'go vet ./...' }, 'integration-test': noIntegrationTests } };
}

function rustPreset(facts: RepositoryFacts): Preset {
  if (!facts.available.has('cargo')) return { language: 'rust', summary: 'rust: not on this runner', commands: allMissing('cargo is not installed on this runner') };
  return { language: 'rust', summary: 'rust', cache: cacheSpecFor('cargo', facts.rootFiles), commands: { install: { command: 'cargo fetch' }, compile: { command: 'cargo build' }, 'unit-test': { command: 'cargo test' }, lint: none('no linter configured; add cargo clippy in plinth.yaml'), 'integration-test': noIntegrationTests } };
}

/** The preset for a repository: the first language whose marker file is at the root. */
export function detectPreset(facts: RepositoryFacts): Preset {
  const has = (name: string) => facts.rootFiles.has(name);
  if (has('package.json')) return nodePreset(facts);
  if (has('pyproject.toml') || has('requirements.txt') || has('setup.py')) return pythonPreset(facts);
  if (has('go.mod')) return goPreset(facts);
  if (has('Cargo.toml')) return rustPreset(facts);
  return { language: 'none', summary: 'no known language (package.json, pyproject.toml, go.mod, Cargo.toml)', commands: allMissing('no language preset matches this repository; add commands in plinth.yaml') };
}

/** The definition with the preset's commands on its shell steps (plinth.yaml is applied after, and wins). */
export function applyPreset(definition: PipelineDefinition, preset: Preset): PipelineDefinition {
  return {
    ...definition,
    steps: definition.steps.map((step) => {
      const chosen = step.kind === 'shell' && Object.hasOwn(preset.commands, step.name) ? preset.commands[step.name as PresetStep] : undefined;
      if (step.kind !== 'shell' || chosen === undefined) return step;
      return 'command' in chosen ? { ...step, command: chosen.command, reason: undefined } : { ...step, command: null, reason: chosen.reason };
    }),
  };
}
