/**
 * The orphan report (issue 8: "every object on a server maps to a claim or is reported as an orphan").
 * Every claim holds its server names from its request to the end of its delete, so an object named
 * like a claim's (`pl_…`) that no claim holds was left by a crash, a step that landed after a delete,
 * or a hand; so is a claim's secret whose claim is gone.
 */
import type { Db } from '../kernel/index.js';
import { physicalNames, type OrphanReport } from './model/claim.js';
import type { Provider } from './providers/provider.js';
import * as q from './store/index.js';

export async function findOrphans(db: Db, providers: Iterable<Provider>): Promise<OrphanReport> {
  const held = new Set<string>();
  for (const claim of await q.listClaims(db, { limit: 100_000 })) {
    const names = physicalNames(claim.environment, claim.name);
    held.add(names.identifier).add(names.natsStream).add(names.volumeDir);
  }
  const report: OrphanReport = { items: [], unreachable: [] };
  for (const provider of providers) {
    if (!provider.inventory) continue;
    try {
      for (const object of await provider.inventory()) if (!held.has(object.name)) report.items.push({ provider: provider.name, ...object });
    } catch (err) {
      // Its orphans are unknown, not absent: the report says which server it could not list.
      report.unreachable.push({ provider: provider.name, reason: (err as Error).message.slice(0, 300) });
    }
  }
  for (const name of await q.listOrphanClaimSecrets(db)) report.items.push({ provider: 'secret-store', kind: 'secret', name });
  return report;
}
