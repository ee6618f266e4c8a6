import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import { DEFAULT_RULES_TOML } from './default-rules.js';
import { severities, type Allowlist, type Rule, type RuleProblem, type SecretsConfig, type Severity } from './model.js';
import { compileRe2, Re2SyntaxError } from './re2.js';

// The gitleaks TOML schema (config/config.go, v8.25+): unknown keys are ignored as gitleaks does, so
// files written for newer gitleaks still load; `severity` is Plinth's addition, which gitleaks ignores.
const AllowlistToml = z.object({
  description: z.string().optional(),
  condition: z.enum(['OR', 'AND', 'or', 'and']).optional(),
  regexTarget: z.enum(['secret', 'match', 'line']).optional(),
  paths: z.array(z.string()).optional(),
  regexes: z.array(z.string()).optional(),
  stopwords: z.array(z.string()).optional(),
  commits: z.array(z.string()).optional(),
  targetRules: z.array(z.string()).optional(),
});
type AllowlistToml = z.infer<typeof AllowlistToml>;

const RuleToml = z.object({
  id: z.string().min(1),
  description: z.string().optional(),
  regex: z.string().optional(),
  secretGroup: z.number().int().min(0).optional(),
  entropy: z.number().min(0).optional(),
  keywords: z.array(z.string()).optional(),
  path: z.string().optional(),
  tags: z.array(z.string()).optional(),
  severity: z.enum(severities as [Severity, ...Severity[]]).optional(),
  allowlist: AllowlistToml.optional(),
  allowlists: z.array(AllowlistToml).optional(),
  required: z.array(z.unknown()).optional(),
});
type RuleToml = z.infer<typeof RuleToml>;

const ConfigToml = z.object({
  title: z.string().optional(),
  extend: z.object({ useDefault: z.boolean().optional(), path: z.string().optional(), disabledRules: z.array(z.string()).optional() }).optional(),
  rules: z.array(RuleToml).optional(),
  allowlist: AllowlistToml.optional(),
  allowlists: z.array(AllowlistToml).optional(),
});
type ConfigToml = z.infer<typeof ConfigToml>;

/** Parses gitleaks TOML text; throws one InputError naming the file and every problem in its shape. */
export function parseConfigToml(text: string, source: string): ConfigToml {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    throw new InputError(`${source}: not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = ConfigToml.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InputError(`${source}: not a gitleaks config: ${issues.join('; ')}`);
  }
  return parsed.data;
}

function compileAllowlist(a: AllowlistToml, where: string): Allowlist {
  const compile = (pattern: string) => {
    try {
      return compileRe2(pattern);
    } catch (err) {
      throw new Re2SyntaxError(`${where}: regex ${JSON.stringify(pattern.slice(0, 80))}: ${(err as Error).message}`);
    }
  };
  return {
    description: a.description,
    condition: a.condition?.toUpperCase() === 'AND' ? 'AND' : 'OR',
    regexTarget: a.regexTarget ?? 'secret',
    paths: (a.paths ?? []).map(compile),
    regexes: (a.regexes ?? []).map(compile),
    stopwords: (a.stopwords ?? []).map((s) => s.toLowerCase()),
    commits: a.commits ?? [],
    targetRules: a.targetRules ?? [],
  };
}

/**
 * Whether a translated regex can match across an unbounded number of lines: `[\s\S]`, `\s` repeated
 * (or \\W, \\D) without bound, or a negated class that admits newlines repeated without bound.
 */
export function spansLines(source: string): boolean {
  if (/\[\\s\\S\]|\[\\S\\s\]|\\[sWD](?:[*+]|\{\d+,\})/.test(source)) return true;
  for (const m of source.matchAll(/\[\^((?:\\.|[^\]\\])*)\](?:[*+]|\{\d+,\})/g)) {
    if (!/\\s|\\n|\\x0a/.test(m[1]!)) return true;
  }
  return false;
}

/** Compiles one rule, or returns why it cannot be used. */
function compileRule(r: RuleToml): Rule | RuleProblem {
  if (r.required !== undefined) return { ruleId: r.id, reason: 'composite rules ([[rules.required]]) are not supported; the rule is skipped' };
  if (r.regex === undefined && r.path === undefined) return { ruleId: r.id, reason: 'a rule needs a regex, a path, or both' };
  try {
    const allowlists = [...(r.allowlist ? [r.allowlist] : []), ...(r.allowlists ?? [])].map((a, n) => compileAllowlist(a, `allowlist ${n + 1}`));
    const regex = r.regex === undefined ? undefined : compileRe2(r.regex, 'gd');
    if (regex && r.secretGroup !== undefined && r.secretGroup > new RegExp(`${regex.source}|`, regex.flags.replace(/[gd]/g, '')).exec('')!.length - 1) {
      return { ruleId: r.id, reason: `secretGroup ${r.secretGroup} is larger than the number of capture groups in the regex` };
    }
    return {
      id: r.id,
      description: r.description ?? r.id,
      severity: r.severity ?? 'high',
      regex,
      secretGroup: r.secretGroup ?? 0,
      entropy: r.entropy === undefined || r.entropy === 0 ? undefined : r.entropy,
      keywords: (r.keywords ?? []).map((k) => k.toLowerCase()),
      path: r.path === undefined ? undefined : compileRe2(r.path),
      tags: r.tags ?? [],
      allowlists,
      spansLines: regex !== undefined && spansLines(regex.source),
    };
  } catch (err) {
    return { ruleId: r.id, reason: (err as Error).message };
  }
}

interface LoadedToml {
  rules: Map<string, RuleToml>;
  allowlists: AllowlistToml[];
}

/** Merges an extended config under this one (gitleaks `[extend]`): same-id rules take the child's fields. */
function resolveExtends(config: ConfigToml, baseDir: string | undefined, depth: number): LoadedToml {
  let base: LoadedToml = { rules: new Map(), allowlists: [] };
  const extend = config.extend;
  if (extend?.useDefault) base = resolveExtends(parseConfigToml(DEFAULT_RULES_TOML, 'built-in rules'), undefined, depth + 1);
  else if (extend?.path !== undefined) {
    if (depth >= 2) throw new InputError(`[extend] path ${extend.path}: configs extend at most 2 levels deep`);
    const file = resolve(baseDir ?? process.cwd(), extend.path);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new InputError(`[extend] path ${extend.path}: cannot read ${file}`);
    }
    base = resolveExtends(parseConfigToml(text, file), dirname(file), depth + 1);
  }
  for (const id of extend?.disabledRules ?? []) base.rules.delete(id);
  for (const rule of config.rules ?? []) {
    const inherited = base.rules.get(rule.id);
    base.rules.set(rule.id, inherited ? { ...inherited, ...rule, keywords: [...new Set([...(inherited.keywords ?? []), ...(rule.keywords ?? [])])], allowlists: [...(inherited.allowlists ?? []), ...(inherited.allowlist ? [inherited.allowlist] : []), ...(rule.allowlists ?? [])] } : rule);
  }
  base.allowlists.push(...(config.allowlist ? [config.allowlist] : []), ...(config.allowlists ?? []));
  return base;
}

/**
 * Loads a gitleaks-compatible config. Bad TOML or a wrong shape is an InputError; a rule whose regex
 * cannot be translated is left out and reported in `problems`, so one odd rule never stops a scan.
 */
export function loadSecretsConfig(text: string, source: string, baseDir?: string): SecretsConfig {
  const merged = resolveExtends(parseConfigToml(text, source), baseDir, 0);
  const rules: Rule[] = [];
  const problems: RuleProblem[] = [];
  for (const r of merged.rules.values()) {
    const compiled = compileRule(r);
    if ('ruleId' in compiled) problems.push(compiled);
    else rules.push(compiled);
  }
  const allowlists: Allowlist[] = [];
  merged.allowlists.forEach((a, n) => {
    try {
      allowlists.push(compileAllowlist(a, `global allowlist ${n + 1}`));
    } catch (err) {
      problems.push({ ruleId: '(global allowlist)', reason: (err as Error).message });
    }
  });
  return { rules, allowlists, problems };
}

let defaultConfig: SecretsConfig | undefined;
/** The built-in rule set, compiled once. */
export function defaultSecretsConfig(): SecretsConfig {
  defaultConfig ??= loadSecretsConfig(DEFAULT_RULES_TOML, 'built-in rules');
  return defaultConfig;
}
