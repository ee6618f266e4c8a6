import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../test/helpers/dialects.js';
import { createTestKernel } from '../../test/helpers/kernel.js';
import type { Kernel } from '../kernel/index.js';
import { deliveryMigrations } from './migrations.js';
import type { AnalysisRecord } from './model/index.js';
import { insertAnalysis, listAnalyses } from './store.js';

const analysis = (i: number, over: Partial<AnalysisRecord> = {}): Omit<AnalysisRecord, 'seq'> => ({
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), stepIndex: 0, weightPercent: 10, verdict: 'pass', summary: `look ${i}`,
  canary: { requests: 100 + i, errorRatePercent: 1.25, p99Ms: 20.5 }, stable: { requests: 900, errorRatePercent: 0.5, p99Ms: null },
  checks: [{ name: 'error-rate', verdict: 'pass', value: 1.25, threshold: 5, pValue: 0.5, detail: 'ok' }], ...over,
});

for (const dialect of await testDialects()) {
  describe(`delivery analysis history store (${dialect})`, () => {
    let kernel: Kernel & { close(): Promise<void> };
    beforeAll(async () => {
      kernel = await createTestKernel(dialect, { migrations: deliveryMigrations });
    }, 30_000);
    afterAll(async () => kernel?.close());

    it('appends analyses per rollout with increasing seq and reads them back as written', async () => {
      await kernel.store.transaction(async (tx) => {
        expect(await insertAnalysis(tx, 'r-1', analysis(1))).toBe(1);
        expect(await insertAnalysis(tx, 'r-1', analysis(2, { stable: null, verdict: 'inconclusive' }))).toBe(2);
      });
      expect(await insertAnalysis(kernel.store, 'r-2', analysis(3))).toBe(1);
      const history = await listAnalyses(kernel.store, 'r-1', undefined, 100);
      expect(history).toEqual([{ seq: 1, ...analysis(1) }, { seq: 2, ...analysis(2, { stable: null, verdict: 'inconclusive' }) }]);
      expect((await listAnalyses(kernel.store, 'r-1', 1, 100)).map((a) => a.seq)).toEqual([2]);
      expect(await listAnalyses(kernel.store, 'r-3', undefined, 100)).toEqual([]);
    });

    it('keeps at most the limit per rollout, thinning older analyses but not failures', async () => {
      for (let i = 1; i <= 30; i++) await insertAnalysis(kernel.store, 'r-big', analysis(i, { verdict: i === 4 ? 'fail' : 'pass' }), 20);
      const seqs = (await listAnalyses(kernel.store, 'r-big', undefined, 100)).map((a) => a.seq);
      expect(seqs.length).toBeLessThanOrEqual(20);
      expect(seqs).toContain(4);
      expect(seqs.slice(-9)).toEqual([22, 23, 24, 25, 26, 27, 28, 29, 30]);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      // Another rollout's history is untouched.
      expect((await listAnalyses(kernel.store, 'r-2', undefined, 100)).length).toBe(1);
    });
  });
}
