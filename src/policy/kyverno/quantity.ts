/**
 * Kubernetes resource quantities (`500m`, `2Gi`, `1e3`) and Go durations (`1h30m`), the two units
 * Kyverno's operators understand besides numbers. Quantities are kept exact (a scaled BigInt) so
 * `1Gi` equals `1024Mi` and `100m` equals `0.1` without floating-point drift.
 */

/** An exact decimal: `mantissa × 10^exponent`. */
export interface Quantity {
  mantissa: bigint;
  exponent: number;
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const quantityPattern = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** Parses a quantity as `resource.ParseQuantity` does, or returns undefined. */
export function parseQuantity(text: string): Quantity | undefined {
  const match = quantityPattern.exec(text);
  if (!match) return undefined;
  const [, sign, number, suffix = ''] = match;
  const [whole = '', fraction = ''] = number!.split('.');
  let mantissa = BigInt(`${whole}${fraction}` || '0');
  let exponent = -fraction.length;
  if (suffix in binarySuffixes) {
    mantissa *= 1n << BigInt(binarySuffixes[suffix]!);
  } else if (suffix in decimalSuffixes) {
    exponent += decimalSuffixes[suffix]!;
  } else {
    exponent += Number(suffix.slice(1));
  }
  if (sign === '-') mantissa = -mantissa;
  return { mantissa, exponent };
}

/** -1, 0 or 1, like `Quantity.Cmp`. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const exponent = Math.min(a.exponent, b.exponent);
  const left = a.mantissa * 10n ** BigInt(a.exponent - exponent);
  const right = b.mantissa * 10n ** BigInt(b.exponent - exponent);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The quantity as a JavaScript number (for arithmetic functions, where Kyverno uses float64 too). */
export function quantityToNumber(q: Quantity): number {
  return Number(q.mantissa) * 10 ** q.exponent;
}

const durationUnits: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const durationPart = /(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/y;

/** Parses a Go duration (`time.ParseDuration`) into nanoseconds, or returns undefined. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  let index = 0;
  while (index < rest.length) {
    durationPart.lastIndex = index;
    const match = durationPart.exec(rest);
    if (!match || match[1] === '' || match[1] === '.') return undefined;
    total += Number(match[1]) * durationUnits[match[2]!]!;
    index = durationPart.lastIndex;
  }
  return sign * total;
}

/** Formats nanoseconds the way Go's `Duration.String()` does (`1h30m0s`, `1.5s`, `0s`). */
export function formatGoDuration(nanoseconds: number): string {
  if (nanoseconds === 0) return '0s';
  const sign = nanoseconds < 0 ? '-' : '';
  let ns = Math.abs(Math.round(nanoseconds));
  if (ns < 1e9) {
    if (ns < 1e3) return `${sign}${ns}ns`;
    if (ns < 1e6) return `${sign}${trimFraction(ns / 1e3)}µs`;
    return `${sign}${trimFraction(ns / 1e6)}ms`;
  }
  const hours = Math.floor(ns / 3600e9);
  ns -= hours * 3600e9;
  const minutes = Math.floor(ns / 60e9);
  ns -= minutes * 60e9;
  const seconds = trimFraction(ns / 1e9);
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function trimFraction(value: number): string {
  return Number(value.toFixed(9)).toString();
}
