/**
 * Pattern keys wrapped in anchors (pkg/engine/anchor): `(k)` conditional, `=(k)` equality,
 * `^(k)` existence, `X(k)` negation, `<(k)` global, `+(k)` add-if-not-present (mutate only).
 */
export type AnchorKind = 'conditional' | 'equality' | 'existence' | 'negation' | 'global' | 'add';

export interface ParsedKey {
  anchor: AnchorKind | undefined;
  /** The key without its anchor. */
  name: string;
}

const anchorPattern = /^([+<=X^])?\((.+)\)$/;
const kindByModifier: Record<string, AnchorKind> = { '': 'conditional', '=': 'equality', '^': 'existence', X: 'negation', '<': 'global', '+': 'add' };

export function parseKey(key: string): ParsedKey {
  const match = anchorPattern.exec(key);
  if (!match) return { anchor: undefined, name: key };
  return { anchor: kindByModifier[match[1] ?? ''], name: match[2]! };
}

const prefixByKind: Record<AnchorKind, string> = { conditional: '', equality: '=', existence: '^', negation: 'X', global: '<', add: '+' };

export function anchoredKey(kind: AnchorKind | undefined, name: string): string {
  return kind === undefined ? name : `${prefixByKind[kind]}(${name})`;
}
