import { randomUUID } from 'node:crypto';
import CDX from '@cyclonedx/cyclonedx-library';
import type { DependencyTree, HashAlgorithm } from '../model.js';
import type { SbomOptions } from './cyclonedx.js';
import { sbomGraph, type SbomNode } from './graph.js';

// SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/), written by hand: packages with purls and
// checksums, DESCRIBES from the document to the subject, DEPENDS_ON along the dependency graph.

const checksumAlg: Record<HashAlgorithm, string> = { 'SHA-1': 'SHA1', 'SHA-256': 'SHA256', 'SHA-384': 'SHA384', 'SHA-512': 'SHA512' };

/** An SPDX license expression made only of known SPDX ids; anything else is NOASSERTION (SPDX has no free-text license names). */
export function spdxLicense(value: string | undefined): string {
  if (value === undefined) return 'NOASSERTION';
  const tokens = value.replace(/[()]/g, ' ').split(/\s+/).filter((t) => t !== '');
  const ok = tokens.length > 0 && tokens.every((t, i) => (i % 2 === 1 ? /^(AND|OR|WITH)$/.test(t) : CDX.SPDX.isSupportedSpdxId(t) || /^LicenseRef-[A-Za-z0-9.-]+$/.test(t) || tokens[i - 1] === 'WITH'));
  if (ok) return value;
  return CDX.SPDX.fixupSpdxId(value) ?? 'NOASSERTION';
}

/** SPDX 2.3 JSON of the folder's lockfiles. */
export function spdxSbom(trees: readonly DependencyTree[], options: SbomOptions): string {
  const graph = sbomGraph(trees, options.folderName);
  const created = (options.timestamp ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ids = new Map<string, string>();
  const used = new Set<string>();
  const idOf = (node: SbomNode): string => {
    const known = ids.get(node.ref);
    if (known) return known;
    const base = `SPDXRef-Package-${`${node.name}-${node.version}`.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'package'}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    ids.set(node.ref, id);
    return id;
  };
  const packageOf = (node: SbomNode) => ({
    SPDXID: idOf(node),
    name: node.name,
    ...(node.version !== '' ? { versionInfo: node.version } : {}),
    downloadLocation: node.pkg?.resolved !== undefined && /^https?:\/\//.test(node.pkg.resolved) ? node.pkg.resolved : 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: spdxLicense(node.pkg?.license),
    copyrightText: 'NOASSERTION',
    primaryPackagePurpose: node.kind === 'package' ? 'LIBRARY' : 'APPLICATION',
    ...(node.pkg && node.pkg.hashes.length > 0 ? { checksums: node.pkg.hashes.map((h) => ({ algorithm: checksumAlg[h.alg], checksumValue: h.hex })) } : {}),
    ...(node.purl.startsWith('pkg:generic/') ? {} : { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: node.purl }] }),
  });
  const all = [graph.root, ...graph.nodes.values()];
  const packages = all.map(packageOf);
  const relationships = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: idOf(graph.root) },
    ...all.flatMap((node) =>
      [...node.dependsOn].filter((d) => ids.has(d)).map((d) => ({ spdxElementId: idOf(node), relationshipType: 'DEPENDS_ON', relatedSpdxElement: ids.get(d)! })),
    ),
  ];
  const name = graph.root.version !== '' ? `${graph.root.name}@${graph.root.version}` : graph.root.name;
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://spdx.org/spdxdocs/plinth/${encodeURIComponent(graph.root.name)}-${options.serialNumber?.replace(/^urn:uuid:/, '') ?? randomUUID()}`,
    creationInfo: { created, creators: [`Tool: plinth-${options.toolVersion}`] },
    documentDescribes: [idOf(graph.root)],
    packages,
    relationships,
  };
  return JSON.stringify(doc, null, 2);
}
