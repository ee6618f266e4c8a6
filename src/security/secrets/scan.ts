import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../../kernel/index.js';
import { BASELINE_FILE, GITLEAKSIGNORE_FILE, isSuppressed, loadSuppressions, noSuppressions } from './baseline.js';
import { defaultSecretsConfig, loadSecretsConfig } from './config.js';
import type { Rule, ScanResult, SecretsConfig } from './model.js';
import { GitRangeError, scanGitRange } from './scan-git.js';
import { scanTree, type TreeScanOptions } from './scan-tree.js';

/** The repository's own gitleaks config, used when no config is given (gitleaks' precedence). */
export const REPO_CONFIG_FILE = '.gitleaks.toml';

export interface SecretsScanRequest {
  /** The working tree (or repository, with `commits`) to scan. */
  path: string;
  /** A gitleaks TOML file; default: PATH/.gitleaks.toml, else the built-in rules. */
  configFile?: string;
  /** A baseline file; default: PATH/.plinth-secrets-baseline.json when it exists. */
  baselineFile?: string;
  /** Scan the lines added by every commit in this range instead of the working tree. */
  commits?: string;
  /** False: report every finding, ignoring the baseline and `.gitleaksignore` (to write a new baseline). */
  applySuppressions?: boolean;
  tree?: TreeScanOptions;
  signal?: AbortSignal;
}

/** Resolves which config applies: explicit file, the repository's .gitleaks.toml, or the built-in rules. */
export async function resolveSecretsConfig(root: string, configFile: string | undefined): Promise<{ config: SecretsConfig; source: string }> {
  const file = configFile !== undefined ? resolve(configFile) : join(root, REPO_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (configFile === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return { config: defaultSecretsConfig(), source: 'built-in rules' };
    throw new InputError(`${configFile ?? file}: cannot read the config (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { config: loadSecretsConfig(text, file, dirname(file)), source: file };
}

/**
 * Scans a working tree, or the commits of a range, and drops findings accepted by the baseline or
 * `.gitleaksignore`. Bad input (missing path, unreadable config or baseline, bad range) is an InputError.
 */
export async function scanSecrets(request: SecretsScanRequest): Promise<ScanResult & { configSource: string; rules: Rule[] }> {
  const root = resolve(request.path);
  const info = await stat(root).catch(() => undefined);
  if (!info) throw new InputError(`${request.path}: no such file or directory`);
  if (!info.isDirectory()) throw new InputError(`${request.path}: not a folder; scan the folder that holds it`);
  const { config, source } = await resolveSecretsConfig(root, request.configFile);
  const suppressions = request.applySuppressions === false ? noSuppressions() : await loadSuppressions(request.baselineFile ?? join(root, BASELINE_FILE), request.baselineFile !== undefined, join(root, GITLEAKSIGNORE_FILE));

  let scanned: Omit<ScanResult, 'suppressed' | 'problems'>;
  if (request.commits !== undefined) {
    try {
      const git = await scanGitRange(root, request.commits, config, { signal: request.signal, maxLineChars: request.tree?.maxLineChars, maxHunkBytes: request.tree?.maxFileBytes });
      scanned = { findings: git.findings, skipped: git.skipped, filesScanned: 0, bytesScanned: git.bytesScanned, commitsScanned: git.commitsScanned };
    } catch (err) {
      if (err instanceof GitRangeError) throw new InputError(err.message);
      throw err;
    }
  } else {
    scanned = await scanTree(root, config, { ...request.tree, signal: request.signal });
  }
  const findings = scanned.findings.filter((f) => !isSuppressed(suppressions, f));
  return { ...scanned, findings, suppressed: scanned.findings.length - findings.length, problems: config.problems, configSource: source, rules: config.rules };
}
