/**
 * One Plinth run: start the server, register the generated catalog, check it is complete the way the
 * anchor checks Backstage, wait for search to index it, then load each endpoint.
 */
import { round, sleep } from '../kernel/util.js';
import { cpuSeconds, getJson, http, idleCpuPct, memoryMb, nowS, progress, waitQuiet, type QuietGate } from './common.js';
import type { Dataset, Manifest } from './data.js';
import { catalogEndpoints, type EndpointKey } from './endpoints.js';
import { runLoad, type LoadFigures, type LoadTool } from './load.js';
import { startPlinth, type Dialect, type PlinthServer } from './server.js';

export interface RunOptions {
  dialect: Dialect;
  dataset: Dataset;
  /** Load tools, the first one's figures are the endpoint's headline figures. */
  tools: LoadTool[];
  connections: number;
  durationS: number;
  warmupS: number;
  gate: QuietGate;
  ingestTimeoutS: number;
  cpuProfile?: { dir: string; name: string };
  /** The server to run instead of this build's (--baseline-server). */
  mainJs?: string;
}

export type EndpointFigures = LoadFigures & {
  responseBytes: number;
  quietWaitS: number;
  foreignCoresBefore: number;
  byTool?: Partial<Record<LoadTool, LoadFigures>>;
};

const KINDS_FILTER = 'filter=kind=group,kind=user,kind=system,kind=api,kind=component';

/** bench.js `stitchedChecks`: every count the manifest expects, and component-000000's own relations. */
async function completeness(server: PlinthServer, manifest: Manifest): Promise<{ ok: boolean; why: string }> {
  const count = async (qs: string) =>
    (await getJson<{ totalItems: number }>(`${server.base}/api/catalog/entities/by-query?limit=1&${qs}`, server.headers)).json.totalItems;
  const total = await count(KINDS_FILTER);
  if (total !== manifest.n) return { ok: false, why: `entities ${total}/${manifest.n}` };
  const e = manifest.expected;
  const checks: [string, string, number][] = [
    ['withOwnedBy', 'filter=relations.ownedBy', e.withOwnedBy],
    ['componentsWithDependsOn', 'filter=kind=component,relations.dependsOn', e.componentsWithDependsOn],
    ['componentsWithDependencyOf', 'filter=kind=component,relations.dependencyOf', e.componentsWithDependencyOf],
    ['groupsWithOwnerOf', 'filter=kind=group,relations.ownerOf', e.groupsWithOwnerOf],
    ['groupsWithHasMember', 'filter=kind=group,relations.hasMember', e.groupsWithHasMember],
  ];
  for (const [name, qs, want] of checks) {
    const got = await count(qs);
    if (got !== want) return { ok: false, why: `${name} ${got}/${want}` };
  }
  const k = manifest.knownComponent;
  const { json } = await getJson<{ relations?: { type: string; targetRef: string }[] }>(
    `${server.base}/api/catalog/entities/by-name/component/default/${k.name}`,
    server.headers,
  );
  const has = (type: string, ref: string) => (json.relations ?? []).some((r) => r.type === type && r.targetRef === ref);
  if (!has('ownedBy', k.ownedBy)) return { ok: false, why: `${k.name} lacks ownedBy ${k.ownedBy}` };
  for (const d of k.dependsOn) if (!has('dependsOn', d)) return { ok: false, why: `${k.name} lacks dependsOn ${d}` };
  return { ok: true, why: 'complete' };
}

/** POST the root location; time it, then verify completeness (and keep polling if the claim was early). */
async function ingest(server: PlinthServer, manifest: Manifest, timeoutS: number) {
  const t0 = nowS();
  const res = await http('POST', `${server.base}/api/catalog/locations`, { headers: server.headers, body: { type: 'file', target: 'catalog-info.yaml' }, timeoutMs: timeoutS * 1000 });
  const returnedAtS = nowS();
  if (res.status !== 201) throw new Error(`register location: ${res.status} ${res.text.slice(0, 500)}`);
  const cpuAtReturnS = cpuSeconds(server.pid);
  const memoryAtReturn = memoryMb(server.pid);
  let check = await completeness(server, manifest);
  const completeAtReturn = check.ok;
  const checkS = nowS() - returnedAtS;
  let polls = 1;
  while (!check.ok) {
    if (nowS() - t0 > timeoutS) throw new Error(`catalog not complete ${timeoutS} s after registering: ${check.why}`);
    progress(`  not complete yet after the 201: ${check.why}`);
    await sleep(500);
    check = await completeness(server, manifest);
    polls += 1;
  }
  const completeAtS = completeAtReturn ? returnedAtS : nowS();
  const total = (await getJson<{ totalItems: number }>(`${server.base}/api/catalog/entities/by-query?limit=1`, server.headers)).json.totalItems;
  return { t0, returnedAtS, completeAtS, completeAtReturn, checkS, polls, cpuAtReturnS, memoryAtReturn, totalItemsUnfiltered: total };
}

/** Until `term=component-000001` finds it and the index holds every catalog entity. */
async function waitSearchReady(server: PlinthServer, expectedDocuments: number, timeoutS: number) {
  const t0 = nowS();
  const probe = 'component:default/component-000001';
  let foundProbeS: number | undefined;
  let polls = 0;
  let last = '';
  let lastLog = t0;
  for (;;) {
    const tPoll = nowS();
    polls += 1;
    if (foundProbeS === undefined) {
      const { json } = await getJson<{ results: { document: { entityRef?: string } }[] }>(`${server.base}/api/search/query?term=component-000001`, server.headers);
      if (json.results.some((r) => r.document.entityRef === probe)) foundProbeS = nowS() - t0;
      else last = 'component-000001 not found yet';
    }
    if (foundProbeS !== undefined) {
      const { json } = await getJson<{ numberOfResults: number }>(`${server.base}/api/search/query?term=&types=software-catalog&pageLimit=1`, server.headers);
      if (json.numberOfResults === expectedDocuments) return { searchReadyS: nowS() - t0, probeFoundS: foundProbeS, polls };
      last = `${json.numberOfResults}/${expectedDocuments} documents indexed`;
    }
    if (nowS() - t0 > timeoutS) throw new Error(`search not ready after ${timeoutS} s: ${last}`);
    if (nowS() - lastLog > 15) {
      progress(`  search: ${last}`);
      lastLog = nowS();
    }
    // Poll often, but never spend more than ~1/6 of the server's time answering polls.
    await sleep(Math.max(100, 5 * (nowS() - tPoll) * 1000));
  }
}

async function loadEndpoints(server: PlinthServer, manifest: Manifest, o: RunOptions, marks: Record<string, number[]>) {
  const out: Partial<Record<EndpointKey, EndpointFigures>> = {};
  for (const ep of catalogEndpoints(manifest)) {
    const { json, bytes } = await getJson(server.base + ep.path, server.headers);
    const problem = ep.verify(json);
    if (problem) throw new Error(`${ep.key}: unexpected response from ${ep.path}: ${problem}`);
    const byTool: Partial<Record<LoadTool, LoadFigures>> = {};
    let quiet = { quietWaitS: 0, foreignCoresBefore: 0 };
    const start = nowS() - server.spawnedAtS;
    for (const tool of o.tools) {
      const spec = { base: server.base, path: ep.path, rotate: ep.rotate, headers: server.headers, connections: o.connections, serverPid: server.pid, ...(o.dialect === 'postgres' ? { dbCommand: 'postgres' } : {}) };
      if (o.warmupS > 0) await runLoad(tool, { ...spec, seconds: o.warmupS });
      const q = await waitQuiet(server.pid, o.gate);
      if (tool === o.tools[0]) quiet = q;
      const f = await runLoad(tool, { ...spec, seconds: o.durationS });
      byTool[tool] = f;
      progress(
        `  ${ep.key} [${tool}]: ${f.rps} req/s, p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms, errors ${f.errors}; ` +
          `server ${f.serverCores} cores (${f.serverCpuMsPerReq} cpu-ms/req)${f.dbCores !== undefined ? `, postgres ${f.dbCores}` : ''}, ${tool} ${f.loadGenCores}, foreign ${f.foreignCores}` +
          (q.quietWaitS > 0 ? `, waited ${q.quietWaitS} s for quiet` : ''),
      );
    }
    marks[ep.key] = [round(start, 2), round(nowS() - server.spawnedAtS, 2)];
    const primary = byTool[o.tools[0]!]!;
    out[ep.key] = { ...primary, responseBytes: bytes, ...quiet, ...(o.tools.length > 1 ? { byTool } : {}) };
  }
  return out;
}

/** Everything measured on one server: ingestion, completeness, search readiness, memory, the endpoints under load. */
export async function runPlinth(o: RunOptions) {
  const { manifest } = o.dataset;
  const gate = await waitQuiet(undefined, o.gate);
  progress(`plinth ${o.dialect} n=${manifest.n}: starting; other processes use ${gate.foreignCoresBefore} cores${gate.quietWaitS > 0 ? ` (waited ${gate.quietWaitS} s)` : ''}`);
  const server = await startPlinth({ dialect: o.dialect, fileRoot: o.dataset.dir, ...(o.cpuProfile ? { cpuProfile: o.cpuProfile } : {}), ...(o.mainJs ? { mainJs: o.mainJs } : {}) });
  const marks: Record<string, number[]> = {};
  const since = (t: number) => round(t - server.spawnedAtS, 2);
  let stopped: { exit: string; stopS: number } | undefined;
  try {
    progress(`  ready after ${server.readyS.toFixed(2)} s; registering catalog-info.yaml`);
    const ing = await ingest(server, manifest, o.ingestTimeoutS);
    const ingestS = ing.completeAtS - ing.t0;
    const fromSpawnS = ing.completeAtS - server.spawnedAtS;
    const ingestCpuS = cpuSeconds(server.pid);
    progress(
      `  ingested ${manifest.n} entities in ${ingestS.toFixed(2)} s (${fromSpawnS.toFixed(2)} s from spawn; complete at the 201: ${ing.completeAtReturn}); ` +
        `server cpu ${ing.cpuAtReturnS.toFixed(1)} s; rss ${ing.memoryAtReturn.rssMb} MB, peak ${ing.memoryAtReturn.peakMb} MB`,
    );
    const search = await waitSearchReady(server, ing.totalItemsUnfiltered, o.ingestTimeoutS);
    progress(`  search ready ${search.searchReadyS.toFixed(2)} s after the 201 (component-000001 found after ${search.probeFoundS.toFixed(2)} s)`);
    const memoryAfterSearch = memoryMb(server.pid);
    const idleBefore = await idleCpuPct(server.pid, 5);
    const endpoints = await loadEndpoints(server, manifest, o, marks);
    const idleAfter = await idleCpuPct(server.pid, 5);
    const memoryEnd = memoryMb(server.pid);
    if (server.exited() !== undefined) throw new Error(`plinth exited (${server.exited()}) during the run: ${server.stderrTail().slice(-500)}`);
    stopped = await server.stop();
    return {
      n: manifest.n,
      dialect: o.dialect,
      ingestS: round(ingestS, 2),
      fromSpawnS: round(fromSpawnS, 2),
      readyS: round(server.readyS, 2),
      postReturnS: round(ing.returnedAtS - ing.t0, 2),
      completeAtReturn: ing.completeAtReturn,
      completenessCheckS: round(ing.checkS, 2),
      completenessPolls: ing.polls,
      entitiesPerS: round(manifest.n / ingestS, 0),
      ingestCpuS: round(ingestCpuS, 2),
      rssMb: memoryEnd.peakMb,
      rssPeakIngestMb: ing.memoryAtReturn.peakMb,
      rssAfterIngestMb: ing.memoryAtReturn.rssMb,
      rssPeakAfterSearchMb: memoryAfterSearch.peakMb,
      rssEndMb: memoryEnd.rssMb,
      searchReadyS: round(search.searchReadyS, 2),
      searchProbeFoundS: round(search.probeFoundS, 2),
      totalItemsUnfiltered: ing.totalItemsUnfiltered,
      idleCpuPctBeforeQueries: idleBefore,
      idleCpuPctAfterQueries: idleAfter,
      quietGateBeforeStart: gate,
      ...endpoints,
      timelineS: { ready: since(server.spawnedAtS + server.readyS), ingestStart: since(ing.t0), ingestReturn: since(ing.returnedAtS), searchReady: since(ing.returnedAtS + search.searchReadyS), ...marks },
      stop: stopped,
    };
  } finally {
    if (!stopped) await server.stop();
  }
}
