import { z } from 'zod';
import { InputError } from '../../kernel/index.js';

// ---- Names ------------------------------------------------------------------------------------
// Owner and repository names become folders (`<dataDir>/repos/<owner>/<name>.git`) and URL segments,
// so they use a closed alphabet: no "/", no "..", no leading "." or "-" (hidden folders, git options).

const ownerPattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const namePattern = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** Why `owner` cannot name a repository owner, or undefined when it can. */
export function ownerProblem(owner: string): string | undefined {
  if (!ownerPattern.test(owner)) return `"${owner}" is not an owner name; use 1-63 of a-z, 0-9, ".", "_", "-", starting with a letter or digit (a catalog Group name or your username)`;
  if (owner.includes('..')) return `"${owner}" must not contain ".."`;
  return undefined;
}

/** Why `name` cannot name a repository, or undefined when it can. */
export function repositoryNameProblem(name: string): string | undefined {
  if (!namePattern.test(name)) return `"${name}" is not a repository name; use 1-100 of a-z, 0-9, ".", "_", "-", starting with a letter or digit`;
  if (name.includes('..')) return `"${name}" must not contain ".."`;
  // The clone URL appends ".git"; a name ending in it would make `svc.git` and `svc.git.git` ambiguous.
  if (name.endsWith('.git')) return `"${name}" must not end with ".git" (the clone URL adds it)`;
  return undefined;
}

/** Throws one InputError naming the field when owner or name is unusable. */
export function checkRepositoryPath(owner: string, name: string): void {
  const problem = ownerProblem(owner) ?? repositoryNameProblem(name);
  if (problem !== undefined) throw new InputError(`${ownerProblem(owner) !== undefined ? 'owner' : 'name'}: ${problem}`);
}

/** Why `branch` cannot be a default branch (a subset of git check-ref-format), or undefined. */
export function branchProblem(branch: string): string | undefined {
  const ok =
    /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(branch) &&
    !/\.\.|\/\/|\/\.|\.lock(\/|$)|[/.]$/.test(branch);
  return ok ? undefined : `"${branch}" is not a branch name; use letters, digits, ".", "_", "-" and "/" (e.g. main)`;
}

/**
 * A revision other layers may ask for: a branch or tag name, a full ref (`refs/heads/main`), `HEAD`, or a
 * commit sha. No revision syntax (`^`, `~`, `:`, `@{`) and no leading "-", so it never becomes a git option.
 */
export function revisionProblem(ref: string): string | undefined {
  const ok = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/.test(ref) && !/\.\.|\/\/|\.lock(\/|$)|[/.]$/.test(ref);
  return ok ? undefined : `"${ref}" is not a branch, tag or commit sha`;
}

// Control characters would break git's line-based object lookups (`cat-file --batch-check`).
const hasControlCharacter = (text: string): boolean => [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** A path inside a repository's tree, normalised (no leading or trailing "/"); "" is the root. */
export function parseTreePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  const segments = trimmed.split('/');
  if (path.length > 4096 || hasControlCharacter(path) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InputError(`path: "${path.slice(0, 200)}" is not a path inside the repository; use segments separated by "/", without "." or ".."`);
  }
  return trimmed;
}

/** A full object id (SHA-1 or SHA-256). */
export const isObjectId = (value: string): boolean => /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(value);

/** Zod forms of the checks above, for route schemas. */
export const ownerSchema = z.string().max(200).superRefine((v, ctx) => {
  const problem = ownerProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
export const nameSchema = z.string().max(200).superRefine((v, ctx) => {
  const problem = repositoryNameProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
export const branchSchema = z.string().max(200).superRefine((v, ctx) => {
  const problem = branchProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
