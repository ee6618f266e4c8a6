/**
 * Kyverno's arithmetic functions (pkg/engine/jmespath/arithmetic.go). Operands are numbers,
 * Kubernetes quantities or Go durations, tried in that order for strings (so "1m" is a milli-
 * quantity, not a minute): quantity ± quantity → quantity, duration ± duration → duration,
 * quantity / quantity → number, quantity × number → quantity, and mixed kinds are errors.
 */
import type { JsonValue } from '../json.js';
import { formatGoDuration, parseGoDuration, parseQuantity, quantityToNumber, type Quantity } from '../quantity.js';
import { arrayArg, FunctionError, numberArg } from './args.js';
import type { FunctionDefinition } from './types.js';

type Operand = { kind: 'scalar'; value: number } | { kind: 'quantity'; value: Quantity; binary: boolean } | { kind: 'duration'; nanoseconds: number };

function toOperand(fn: string, value: JsonValue | undefined): Operand {
  if (typeof value === 'number') return { kind: 'scalar', value };
  if (typeof value === 'string') {
    const quantity = parseQuantity(value);
    if (quantity) return { kind: 'quantity', value: quantity, binary: /i$/.test(value) };
    const nanoseconds = parseGoDuration(value);
    if (nanoseconds !== undefined) return { kind: 'duration', nanoseconds };
  }
  throw new FunctionError(fn, 'invalid operands');
}

function mismatch(fn: string): FunctionError {
  return new FunctionError(fn, 'types mismatch');
}

function addOrSubtract(fn: string, a: Operand, b: Operand, sign: 1 | -1): JsonValue {
  if (a.kind === 'scalar' && b.kind === 'scalar') return a.value + sign * b.value;
  if (a.kind === 'quantity' && b.kind === 'quantity') {
    const exponent = Math.min(a.value.exponent, b.value.exponent);
    const scale = (q: Quantity) => q.mantissa * 10n ** BigInt(q.exponent - exponent);
    return formatQuantity({ mantissa: scale(a.value) + BigInt(sign) * scale(b.value), exponent }, a.binary);
  }
  if (a.kind === 'duration' && b.kind === 'duration') return formatGoDuration(a.nanoseconds + sign * b.nanoseconds);
  throw mismatch(fn);
}

function multiplyOperands(a: Operand, b: Operand): JsonValue {
  if (a.kind === 'scalar' && b.kind === 'scalar') return a.value * b.value;
  if (a.kind === 'scalar' && b.kind !== 'scalar') return multiplyOperands(b, a);
  if (b.kind !== 'scalar') throw mismatch('multiply');
  if (a.kind === 'quantity') {
    const factor = parseQuantity(String(b.value));
    if (!factor) throw new FunctionError('multiply', 'invalid operands');
    return formatQuantity({ mantissa: a.value.mantissa * factor.mantissa, exponent: a.value.exponent + factor.exponent }, a.binary);
  }
  return formatGoDuration(Math.trunc(a.kind === 'duration' ? a.nanoseconds * b.value : 0));
}

function divideOperands(a: Operand, b: Operand): JsonValue {
  const zero = () => new FunctionError('divide', 'Zero divisor passed');
  if (a.kind === 'scalar' && b.kind === 'scalar') {
    if (b.value === 0) throw zero();
    return a.value / b.value;
  }
  if (a.kind === 'quantity' && b.kind === 'quantity') {
    const divisor = quantityToNumber(b.value);
    if (divisor === 0) throw zero();
    return quantityToNumber(a.value) / divisor;
  }
  if (a.kind === 'quantity' && b.kind === 'scalar') {
    if (b.value === 0) throw zero();
    return formatQuantity(decimalToQuantity(quantityToNumber(a.value) / b.value), a.binary);
  }
  if (a.kind === 'duration' && b.kind === 'duration') {
    if (b.nanoseconds === 0) throw zero();
    return a.nanoseconds / b.nanoseconds;
  }
  if (a.kind === 'duration' && b.kind === 'scalar') {
    if (b.value === 0) throw zero();
    return formatGoDuration(Math.trunc(a.nanoseconds / b.value));
  }
  throw mismatch('divide');
}

function moduloOperands(a: Operand, b: Operand): JsonValue {
  const integers = (x: number, y: number) => {
    if (!Number.isInteger(x) || !Number.isInteger(y)) throw new FunctionError('modulo', 'Non-integer argument(s) passed for modulo');
    if (y === 0) throw new FunctionError('modulo', 'Zero divisor passed');
    return x % y;
  };
  if (a.kind === 'scalar' && b.kind === 'scalar') return integers(a.value, b.value);
  if (a.kind === 'quantity' && b.kind === 'quantity') {
    return formatQuantity({ mantissa: BigInt(integers(quantityToNumber(a.value), quantityToNumber(b.value))), exponent: 0 }, a.binary);
  }
  if (a.kind === 'duration' && b.kind === 'duration') {
    if (b.nanoseconds === 0) throw new FunctionError('modulo', 'Zero divisor passed');
    return formatGoDuration(a.nanoseconds % b.nanoseconds);
  }
  throw mismatch('modulo');
}

function decimalToQuantity(value: number): Quantity {
  const parsed = parseQuantity(value.toFixed(9).replace(/\.?0+$/, ''));
  return parsed ?? { mantissa: BigInt(Math.round(value)), exponent: 0 };
}

const decimalSuffix: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const binarySuffix = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** A quantity in Kubernetes' canonical text form (`1500m`, `2k`, `1Gi`), close to `Quantity.String()`. */
function formatQuantity(quantity: Quantity, binary: boolean): string {
  let { mantissa, exponent } = quantity;
  if (mantissa === 0n) return '0';
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  if (binary && exponent >= 0) {
    let value = mantissa * 10n ** BigInt(exponent);
    let power = 0;
    while (power < binarySuffix.length - 1 && value % 1024n === 0n && value !== 0n) {
      value /= 1024n;
      power++;
    }
    return `${value}${binarySuffix[power]}`;
  }
  let target = Math.floor(exponent / 3) * 3;
  if (target < -9) target = -9;
  if (target > 18) target = 18;
  const shift = exponent - target;
  const scaled = shift >= 0 ? mantissa * 10n ** BigInt(shift) : mantissa / 10n ** BigInt(-shift);
  return `${scaled}${decimalSuffix[target]}`;
}

export const arithmeticFunctions: FunctionDefinition[] = [
  { name: 'add', arity: 2, run: (a) => addOrSubtract('add', toOperand('add', a[0]), toOperand('add', a[1]), 1) },
  { name: 'subtract', arity: 2, run: (a) => addOrSubtract('subtract', toOperand('subtract', a[0]), toOperand('subtract', a[1]), -1) },
  { name: 'multiply', arity: 2, run: (a) => multiplyOperands(toOperand('multiply', a[0]), toOperand('multiply', a[1])) },
  { name: 'divide', arity: 2, run: (a) => divideOperands(toOperand('divide', a[0]), toOperand('divide', a[1])) },
  { name: 'modulo', arity: 2, run: (a) => moduloOperands(toOperand('modulo', a[0]), toOperand('modulo', a[1])) },
  {
    name: 'sum',
    arity: 1,
    run: (a) => {
      const items = arrayArg('sum', a, 0);
      if (items.length === 0) throw new FunctionError('sum', 'at least one element in the array is required');
      let total = toOperand('sum', items[0]);
      for (const item of items.slice(1)) {
        const next = addOrSubtract('sum', total, toOperand('sum', item), 1);
        total = toOperand('sum', next);
      }
      return total.kind === 'scalar' ? total.value : total.kind === 'quantity' ? formatQuantity(total.value, total.binary) : formatGoDuration(total.nanoseconds);
    },
  },
  {
    name: 'round',
    arity: 2,
    run: (a) => {
      const value = numberArg('round', a, 0);
      const digits = numberArg('round', a, 1);
      if (!Number.isInteger(digits) || digits < 0) throw new FunctionError('round', 'digits must be a non-negative integer');
      const factor = 10 ** digits;
      return Math.round(value * factor) / factor;
    },
  },
];

