import { parseAllDocuments, parse as parseYamlText } from 'yaml';

export interface ParsedDocument {
  index: number;
  value: unknown;
  error?: string;
}

/** Limits against YAML bombs: aliases expand at most this many times per document. */
const MAX_ALIASES = 100;

/** Parses every document of a multi-document YAML file; one bad document does not hide the others. */
export function parseYamlDocuments(text: string, source: string): ParsedDocument[] {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc, index) => {
    const problem = doc.errors[0];
    if (problem) {
      const pos = problem.linePos?.[0];
      return { index, value: undefined, error: `${source}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${problem.message.split('\n')[0]}` };
    }
    try {
      return { index, value: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
    } catch (err) {
      return { index, value: undefined, error: `${source}: document ${index + 1}: ${(err as Error).message}` };
    }
  });
}

export function parseYamlValue(text: string, source: string): unknown {
  try {
    return parseYamlText(text, { maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw new Error(`${source}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}
