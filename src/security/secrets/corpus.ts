import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Finding } from './model.js';

const Labels = z.object({ labels: z.array(z.object({ file: z.string(), line: z.number().int().positive(), rules: z.array(z.string()).min(1) })) });
export type CorpusLabel = z.infer<typeof Labels>['labels'][number];

export interface CorpusScore {
  truePositives: number;
  falsePositives: { file: string; line: number; rule: string }[];
  missed: CorpusLabel[];
  precision: number;
  recall: number;
}

/** Reads `labels.json` of a labelled corpus folder. */
export async function readCorpusLabels(corpusDir: string): Promise<CorpusLabel[]> {
  return Labels.parse(JSON.parse(await readFile(join(corpusDir, 'labels.json'), 'utf8'))).labels;
}

/**
 * Scores findings against labels: a finding is a true positive when a label names its file, line
 * and rule; each label is found at most once (a second finding on it is neither).
 */
export function scoreCorpus(findings: readonly Finding[], labels: readonly CorpusLabel[]): CorpusScore {
  const found = new Set<CorpusLabel>();
  const falsePositives: CorpusScore['falsePositives'] = [];
  for (const f of findings) {
    const label = labels.find((l) => l.file === f.file && l.line === f.line && l.rules.includes(f.rule));
    if (label) found.add(label);
    else falsePositives.push({ file: f.file, line: f.line, rule: f.rule });
  }
  const truePositives = found.size;
  const missed = labels.filter((l) => !found.has(l));
  return {
    truePositives,
    falsePositives,
    missed,
    precision: truePositives + falsePositives.length === 0 ? 1 : truePositives / (truePositives + falsePositives.length),
    recall: labels.length === 0 ? 1 : truePositives / labels.length,
  };
}
