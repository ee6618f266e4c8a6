// ---- Secret masking ---------------------------------------------------------------------------------
// A secret never reaches stored or streamed logs: not whole, not as its base64 encoding (at any of the
// three alignments it can take inside a longer base64 text), not split across output chunks, and not
// line by line when the secret itself spans lines.

export const MASK = '***';
/** Shorter values would mask ordinary words; GitHub Actions draws the same line. */
const minSecretLength = 4;

/** The base64 texts that appear whenever `value` is encoded inside a longer byte stream, at offsets 0, 1 and 2 mod 3. */
function base64Variants(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const variants: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // Drop the characters that depend on the unknown bytes before (the shift) and after (the last partial group).
    const start = shift === 0 ? 0 : shift + 1;
    const endBytes = shift + bytes.length;
    // Characters carrying only this value's bits: 6 bits each, none from the unknown bytes after it.
    const end = Math.floor((endBytes * 8) / 6);
    const core = encoded.slice(start, end).replace(/=+$/, '');
    if (core.length >= 8) variants.push(core);
  }
  // The whole value encoded alone, padding included.
  variants.push(bytes.toString('base64'));
  return variants;
}

/** Every text to hide for these secret values, longest first (so a longer match wins). */
export function maskPatterns(secrets: readonly string[]): string[] {
  const patterns = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < minSecretLength) continue;
    patterns.add(secret);
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= minSecretLength) patterns.add(line);
    for (const variant of base64Variants(secret)) patterns.add(variant);
    patterns.add(encodeURIComponent(secret));
  }
  return [...patterns].sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of every pattern in `text`. */
export function maskText(text: string, patterns: readonly string[]): string {
  let out = text;
  for (const pattern of patterns) if (out.includes(pattern)) out = out.split(pattern).join(MASK);
  return out;
}

export interface LineMasker {
  /** Feeds a chunk of output; returns the complete lines it finished, masked, without their newlines. */
  push(chunk: string): string[];
  /** The rest, masked, at the end of the stream. */
  end(): string[];
}

/** Longest run of text kept back without a newline before it is emitted as a line of its own. */
const maxLineChars = 16 * 1024;

/**
 * Splits a stream into lines and masks each complete line. Masking whole lines (not chunks) is what
 * makes a secret split across chunk boundaries safe; an overlong line is cut only where no secret can
 * straddle the cut.
 */
export function createLineMasker(patterns: readonly string[]): LineMasker {
  const longest = patterns.reduce((n, p) => Math.max(n, p.length), 0);
  let pending = '';
  const lines: string[] = [];
  function drain(): void {
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      lines.push(maskText(pending.slice(0, newline).replace(/\r$/, ''), patterns));
      pending = pending.slice(newline + 1);
    }
    while (pending.length > maxLineChars + longest) {
      let cut = maxLineChars;
      // Move the cut past any secret that straddles it, so each half is masked with the secret whole.
      for (const pattern of patterns) {
        let at = pending.indexOf(pattern, Math.max(0, cut - pattern.length + 1));
        while (at !== -1 && at < cut) {
          cut = Math.max(cut, at + pattern.length);
          at = pending.indexOf(pattern, at + 1);
        }
      }
      lines.push(maskText(pending.slice(0, cut), patterns));
      pending = pending.slice(cut);
    }
  }
  return {
    push(chunk) {
      pending += chunk;
      drain();
      return lines.splice(0);
    },
    end() {
      drain();
      if (pending !== '') lines.push(maskText(pending, patterns));
      pending = '';
      return lines.splice(0);
    },
  };
}
