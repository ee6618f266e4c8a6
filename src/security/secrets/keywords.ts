/**
 * One pass over a text finds every rule keyword (ASCII case-insensitively, as gitleaks lowercases the
 * fragment): an Aho-Corasick automaton over ASCII code units, flattened into one transition table.
 * Checking each keyword with its own `includes` would read the text once per keyword (60+ passes with
 * the built-in rules); this reads it once, which is what keeps the scan near disk speed.
 */

const ALPHABET = 128;
/** Occurrences kept per keyword; past this the rule runs on the whole text anyway. */
export const MAX_KEYWORD_POSITIONS = 4096;

export interface KeywordHits {
  /** Start offsets of each keyword's occurrences (at most MAX_KEYWORD_POSITIONS), by keyword. */
  positions: Map<string, number[]>;
  has(keyword: string): boolean;
}

export interface KeywordMatcher {
  find(text: string): KeywordHits;
}

const fold = (code: number) => (code >= 65 && code <= 90 ? code + 32 : code);

export function createKeywordMatcher(keywords: readonly string[]): KeywordMatcher {
  const isAscii = (k: string) => [...k].every((c) => c.charCodeAt(0) < ALPHABET);
  const ascii = [...new Set(keywords.filter((k) => k !== '' && isAscii(k)))];
  // Keywords outside ASCII (rare) fall back to a lowercase includes.
  const other = [...new Set(keywords.filter((k) => k !== '' && !isAscii(k)))];
  const goto: Int32Array[] = [new Int32Array(ALPHABET).fill(-1)];
  const outputs: number[][] = [[]];
  ascii.forEach((keyword, id) => {
    let state = 0;
    for (let i = 0; i < keyword.length; i++) {
      const c = fold(keyword.charCodeAt(i));
      if (goto[state]![c] === -1) {
        goto.push(new Int32Array(ALPHABET).fill(-1));
        outputs.push([]);
        goto[state]![c] = goto.length - 1;
      }
      state = goto[state]![c]!;
    }
    outputs[state]!.push(id);
  });
  const fail = new Int32Array(goto.length);
  const queue: number[] = [];
  for (let c = 0; c < ALPHABET; c++) {
    const s = goto[0]![c]!;
    if (s === -1) goto[0]![c] = 0;
    else queue.push(s);
  }
  for (let head = 0; head < queue.length; head++) {
    const r = queue[head]!;
    for (let c = 0; c < ALPHABET; c++) {
      const s = goto[r]![c]!;
      if (s === -1) {
        goto[r]![c] = goto[fail[r]!]![c]!;
        continue;
      }
      queue.push(s);
      fail[s] = goto[fail[r]!]![c]!;
      outputs[s]!.push(...outputs[fail[s]!]!);
    }
  }
  const table = new Int32Array(goto.length * ALPHABET);
  goto.forEach((row, state) => table.set(row, state * ALPHABET));
  const lengths = ascii.map((k) => k.length);

  return {
    find(text) {
      const positions = new Map<string, number[]>();
      let state = 0;
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        // A non-ASCII unit can be part of no ASCII keyword: back to the root.
        state = code < ALPHABET ? table[state * ALPHABET + fold(code)]! : 0;
        const out = outputs[state]!;
        if (out.length === 0) continue;
        for (const id of out) {
          const keyword = ascii[id]!;
          let list = positions.get(keyword);
          if (!list) positions.set(keyword, (list = []));
          if (list.length < MAX_KEYWORD_POSITIONS) list.push(i - lengths[id]! + 1);
        }
      }
      if (other.length > 0) {
        const lower = text.toLowerCase();
        for (const k of other) if (lower.includes(k)) positions.set(k, []);
      }
      return { positions, has: (k) => positions.has(k) };
    },
  };
}
