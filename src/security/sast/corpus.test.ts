import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanSast } from './scan.js';

const corpus = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'sast-corpus');

describe('SAST on the labelled corpus', () => {
  it('finds the labelled vulnerabilities and stays quiet on the safe look-alikes', async () => {
    const labels = JSON.parse(await readFile(join(corpus, 'labels.json'), 'utf8')) as { file: string; line: number; rule: string }[];
    const result = await scanSast(corpus);
    const key = (f: { file: string; line: number; rule: string }) => `${f.file}:${f.line} ${f.rule}`;
    const expected = new Set(labels.map(key));
    const found = new Set(result.findings.map(key));
    const truePositives = [...found].filter((k) => expected.has(k));
    const falsePositives = [...found].filter((k) => !expected.has(k));
    const missed = [...expected].filter((k) => !found.has(k));
    const precision = truePositives.length / Math.max(1, found.size);
    const recall = truePositives.length / expected.size;
    process.stdout.write(`SAST corpus: ${expected.size} labelled, ${found.size} found; precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}\n`);
    expect({ falsePositives, missed }).toEqual({ falsePositives: [], missed: [] });
    expect(result.filesScanned).toBe(9);
  });
});
