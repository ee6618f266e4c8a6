import { isAbsolute, relative, sep } from 'node:path';

/** `path` is `root` or below it (both absolute and normalized): where user-named files must stay. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
