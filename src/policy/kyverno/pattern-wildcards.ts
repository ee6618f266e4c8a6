/**
 * Wildcard keys in a pattern's `metadata.labels` / `metadata.annotations` (wildcards.ExpandInMetadata):
 * Kyverno replaces each with the first resource key it matches before matching, keeping any anchor.
 * Wildcards in other map keys are literal.
 */
import { anchoredKey, parseKey } from './anchor.js';
import { isJsonObject, type JsonObject } from './json.js';
import { containsWildcard, matchWildcard } from './wildcard.js';

function findByName(map: JsonObject, name: string): string | undefined {
  return Object.keys(map).find((key) => key === name || parseKey(key).name === name);
}

export function hasMetadataWildcards(raw: JsonObject): boolean {
  const metadataKey = findByName(raw, 'metadata');
  const metadata = metadataKey === undefined ? undefined : raw[metadataKey];
  if (!isJsonObject(metadata)) return false;
  return ['labels', 'annotations'].some((tag) => {
    const key = findByName(metadata, tag);
    const map = key === undefined ? undefined : metadata[key];
    return isJsonObject(map) && Object.keys(map).some(containsWildcard);
  });
}

/**
 * Replaces wildcard keys under metadata.labels/annotations with the first matching resource key
 * (wildcards.ExpandInMetadata); an unmatched key stays literal and so counts as missing.
 */
export function expandMetadataWildcards(raw: JsonObject, resource: JsonObject): JsonObject {
  const metadataKey = findByName(raw, 'metadata')!;
  const patternMetadata = raw[metadataKey] as JsonObject;
  const resourceMetadata = resource.metadata;
  if (!isJsonObject(resourceMetadata)) return raw;
  const expandedMetadata: JsonObject = { ...patternMetadata };
  for (const tag of ['labels', 'annotations']) {
    const tagKey = findByName(patternMetadata, tag);
    const patternTag = tagKey === undefined ? undefined : patternMetadata[tagKey];
    const resourceTag = resourceMetadata[tag];
    if (tagKey === undefined || !isJsonObject(patternTag) || !isJsonObject(resourceTag)) continue;
    const expanded: JsonObject = {};
    for (const [key, value] of Object.entries(patternTag)) {
      if (!containsWildcard(key)) {
        expanded[key] = value;
        continue;
      }
      const { anchor, name } = parseKey(key);
      const match = Object.keys(resourceTag)
        .sort()
        .find((candidate) => matchWildcard(name, candidate));
      expanded[anchoredKey(anchor, match ?? name)] = value;
    }
    expandedMetadata[tagKey] = expanded;
  }
  return { ...raw, [metadataKey]: expandedMetadata };
}
