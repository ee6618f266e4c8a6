/**
 * Registers Kyverno's custom JMESPath functions with the library's function table. Where Kyverno's
 * function shares a name with a community built-in (`split`, `items`, `replace`, `trim`, `sum`, `sort`),
 * Kyverno's semantics win, because policies are written against Kyverno.
 */
import { registerFunction, TYPE_ANY, type JSONValue } from '@jmespath-community/jmespath';
import type { JsonValue } from '../json.js';
import { FunctionError } from './args.js';
import { arithmeticFunctions } from './arithmetic.js';
import { encodingFunctions } from './encoding.js';
import { objectFunctions } from './objects.js';
import { stringFunctions } from './strings.js';
import { timeFunctions } from './time.js';
import type { FunctionDefinition } from './types.js';

const kyvernoFunctions: readonly FunctionDefinition[] = [...stringFunctions, ...arithmeticFunctions, ...encodingFunctions, ...objectFunctions, ...timeFunctions];

let registered = false;

export function registerKyvernoFunctions(): void {
  if (registered) return;
  registered = true;
  for (const definition of kyvernoFunctions) {
    const [min, max] = typeof definition.arity === 'number' ? [definition.arity, definition.arity] : definition.arity;
    // Every argument is declared `any` and checked by the function itself, so a wrong type gets
    // Kyverno's message ("argument 2 is expected of string type") instead of the library's.
    const signature = Array.from({ length: max }, (_, i) => ({ types: [TYPE_ANY], ...(i >= min ? { optional: true } : {}) }));
    registerFunction(
      definition.name,
      (args) => {
        if (args.length < min || args.length > max) throw new FunctionError(definition.name, `expected ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
        return definition.run(args as JsonValue[]) as JSONValue;
      },
      signature,
      { override: true },
    );
  }
}
