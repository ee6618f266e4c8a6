import { randomUUID } from 'node:crypto';
import CDX from '@cyclonedx/cyclonedx-library';
import type { DependencyTree } from '../model.js';
import { sbomGraph, type SbomNode } from './graph.js';

export interface SbomOptions {
  /** Names the subject when several lockfiles are merged. */
  folderName: string;
  toolVersion: string;
  /** Fixed for reproducible output; defaults to now and a random serial. */
  timestamp?: Date;
  serialNumber?: string;
}

const { Enums, Models, SPDX } = CDX;

/** An SPDX id, an SPDX expression, or else a named license; one per component (CycloneDX's license choice). */
export function cyclonedxLicense(value: string): InstanceType<typeof Models.SpdxLicense> | InstanceType<typeof Models.LicenseExpression> | InstanceType<typeof Models.NamedLicense> {
  const id = SPDX.fixupSpdxId(value);
  if (id !== undefined) return new Models.SpdxLicense(id, { acknowledgement: Enums.LicenseAcknowledgement.Declared });
  if (/\s(AND|OR|WITH)\s/.test(value) || value.startsWith('(')) {
    const expression = new Models.LicenseExpression(value);
    expression.acknowledgement = Enums.LicenseAcknowledgement.Declared;
    return expression;
  }
  return new Models.NamedLicense(value, { acknowledgement: Enums.LicenseAcknowledgement.Declared });
}

function componentOf(node: SbomNode, type: CDX.Enums.ComponentType): CDX.Models.Component {
  const pkg = node.pkg;
  // npm scopes are CycloneDX groups (@scope); the purl still names the package exactly.
  const scoped = pkg?.ecosystem === 'npm' && node.name.startsWith('@') ? /^(@[^/]+)\/(.+)$/.exec(node.name) : null;
  const component = new Models.Component(type, scoped ? scoped[2]! : node.name, {
    bomRef: node.ref,
    purl: node.purl,
    ...(scoped ? { group: scoped[1]! } : {}),
    ...(node.version !== '' ? { version: node.version } : {}),
  });
  if (pkg === undefined) return component;
  for (const h of pkg.hashes) component.hashes.set(Enums.HashAlgorithm[h.alg], h.hex);
  if (pkg.license !== undefined) component.licenses.add(cyclonedxLicense(pkg.license));
  component.scope = pkg.dev ? Enums.ComponentScope.Excluded : pkg.optional ? Enums.ComponentScope.Optional : Enums.ComponentScope.Required;
  if (pkg.dev) component.properties.add(new Models.Property('cdx:npm:package:development', 'true'));
  if (pkg.resolved !== undefined && /^https?:\/\//.test(pkg.resolved)) {
    component.externalReferences.add(new Models.ExternalReference(pkg.resolved, Enums.ExternalReferenceType.Distribution));
  }
  return component;
}

/** CycloneDX 1.6 JSON of the folder's lockfiles: components with purls, hashes and licenses, and the dependency graph. */
export function cyclonedxSbom(trees: readonly DependencyTree[], options: SbomOptions): string {
  const graph = sbomGraph(trees, options.folderName);
  const bom = new Models.Bom();
  bom.serialNumber = options.serialNumber ?? `urn:uuid:${randomUUID()}`;
  bom.metadata.timestamp = options.timestamp ?? new Date();
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'plinth', { version: options.toolVersion }));
  const root = componentOf(graph.root, Enums.ComponentType.Application);
  bom.metadata.component = root;
  const components = new Map<string, CDX.Models.Component>([[graph.root.ref, root]]);
  for (const node of graph.nodes.values()) {
    const component = componentOf(node, node.kind === 'project' ? Enums.ComponentType.Application : Enums.ComponentType.Library);
    components.set(node.ref, component);
    bom.components.add(component);
  }
  for (const node of [graph.root, ...graph.nodes.values()]) {
    const component = components.get(node.ref)!;
    for (const d of node.dependsOn) {
      const target = components.get(d);
      if (target) component.dependencies.add(target.bomRef);
    }
  }
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}
