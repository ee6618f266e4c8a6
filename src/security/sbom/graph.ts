import type { DependencyTree, ResolvedPackage } from '../model.js';

/** One node of an SBOM: a package once per purl, whatever number of install paths it has. */
export interface SbomNode {
  ref: string;
  kind: 'root' | 'project' | 'package';
  name: string;
  version: string;
  purl: string;
  pkg: ResolvedPackage | undefined;
  dependsOn: Set<string>;
}

export interface SbomGraph {
  root: SbomNode;
  nodes: Map<string, SbomNode>;
}

/**
 * Merges the trees of a folder into one graph keyed by purl. With one lockfile its root is the SBOM's
 * subject; with several, a root named after the folder depends on each lockfile's project.
 */
export function sbomGraph(trees: readonly DependencyTree[], folderName: string): SbomGraph {
  const nodes = new Map<string, SbomNode>();
  const nodeFor = (ref: string, make: () => SbomNode) => {
    const existing = nodes.get(ref);
    if (existing) return existing;
    const created = make();
    nodes.set(ref, created);
    return created;
  };
  const projects: SbomNode[] = [];
  for (const tree of trees) {
    const project = nodeFor(tree.root.purl, () => ({ ref: tree.root.purl, kind: 'project', name: tree.root.name, version: tree.root.version, purl: tree.root.purl, pkg: undefined, dependsOn: new Set() }));
    projects.push(project);
    const purlOf = new Map(tree.packages.map((p) => [p.key, p.purl]));
    for (const p of tree.packages) {
      const node = nodeFor(p.purl, () => ({ ref: p.purl, kind: 'package', name: p.name, version: p.version, purl: p.purl, pkg: p, dependsOn: new Set() }));
      for (const d of p.dependencies) {
        const target = purlOf.get(d);
        if (target !== undefined && target !== p.purl) node.dependsOn.add(target);
      }
    }
    for (const d of tree.root.dependencies) {
      const target = purlOf.get(d);
      if (target !== undefined) project.dependsOn.add(target);
    }
  }
  if (projects.length === 1) {
    const root = projects[0]!;
    nodes.delete(root.ref);
    return { root: { ...root, kind: 'root' }, nodes };
  }
  const ref = `pkg:generic/${encodeURIComponent(folderName)}`;
  return { root: { ref, kind: 'root', name: folderName, version: '', purl: ref, pkg: undefined, dependsOn: new Set(projects.map((p) => p.ref)) }, nodes };
}
