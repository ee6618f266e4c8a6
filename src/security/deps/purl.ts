import { InputError } from '../../kernel/index.js';
import type { Ecosystem } from '../model.js';

// Package URLs (https://github.com/package-url/purl-spec): the types npm, pypi and golang only.

const purlTypeOf: Record<Ecosystem, string> = { npm: 'npm', PyPI: 'pypi', Go: 'golang' };
const ecosystemOfType: Record<string, Ecosystem> = { npm: 'npm', pypi: 'PyPI', golang: 'Go' };

/** PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-` (what the purl spec asks for pypi names). */
export const normalizePypiName = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

/** The name an advisory store indexes a package by, so `Flask` and `flask` meet. */
export function canonicalName(ecosystem: Ecosystem, name: string): string {
  if (ecosystem === 'PyPI') return normalizePypiName(name);
  if (ecosystem === 'npm') return name.toLowerCase();
  return name;
}

const enc = (segment: string) => encodeURIComponent(segment);

/** `pkg:npm/%40scope/name@1.2.3`, `pkg:pypi/flask@2.0.1`, `pkg:golang/github.com/gin-gonic/gin@v1.9.0`. */
export function toPurl(ecosystem: Ecosystem, name: string, version?: string): string {
  const type = purlTypeOf[ecosystem];
  const canonical = ecosystem === 'PyPI' ? normalizePypiName(name) : name;
  const path = canonical.split('/').map(enc).join('/');
  return `pkg:${type}/${path}${version !== undefined && version !== '' ? `@${enc(version)}` : ''}`;
}

export interface ParsedPurl {
  ecosystem: Ecosystem;
  name: string;
  version: string | undefined;
}

/** Parses a purl of a supported type; qualifiers and subpath are ignored. Throws InputError saying what is wrong. */
export function parsePurl(purl: string): ParsedPurl {
  const match = /^pkg:([a-zA-Z][a-zA-Z0-9.+-]*)\/([^?#]+?)(?:@([^?#@/]+))?(?:[?#].*)?$/.exec(purl);
  if (!match) throw new InputError(`${JSON.stringify(purl)} is not a package URL; expected pkg:<type>/<name>@<version>, e.g. pkg:npm/lodash@4.17.21`);
  const type = match[1]!.toLowerCase();
  const ecosystem = ecosystemOfType[type];
  if (ecosystem === undefined) throw new InputError(`${purl}: purl type "${type}" is not supported; use npm, pypi or golang`);
  let name: string;
  let version: string | undefined;
  try {
    name = match[2]!.split('/').filter((s) => s !== '').map(decodeURIComponent).join('/');
    version = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
  } catch {
    throw new InputError(`${purl}: malformed percent-encoding`);
  }
  if (name === '') throw new InputError(`${purl}: the package name is empty`);
  return { ecosystem, name: ecosystem === 'PyPI' ? normalizePypiName(name) : name, version };
}
