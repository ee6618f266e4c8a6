import { describe, expect, it } from 'vitest';
import { expressionProblem, renderText, renderValue } from './expressions.js';

const context = { parameters: { name: 'payments', repoUrl: 'plinth?owner=team-a&repo=payments', enableCI: 'Yes', n: 3, obj: { a: [1, 2] } } };

// Known nunjucks template-injection payloads: each must fail or render something harmless, never reach
// the process, globals or prototypes (issue #4).
const injections = [
  '${{ range.constructor("return process")() }}',
  '${{ range.constructor("return global.process.mainModule.require(\'child_process\').execSync(\'id\')")() }}',
  "${{ ''.constructor.constructor('return this')() }}",
  "${{ ''.constructor.constructor('return process')().env }}",
  '${{ cycler.constructor("return process")() }}',
  '${{ joiner.constructor("return process")() }}',
  '${{ cycler().next.constructor("return process")() }}',
  '${{ joiner().constructor.constructor("return process")() }}',
  '${{ constructor.constructor("return process")() }}',
  '${{ parameters.__proto__.constructor.constructor("return process")() }}',
  '${{ parameters["__proto__"]["constructor"] }}',
  '${{ parameters["constr" + "uctor"]["constr" + "uctor"]("return process")() }}',
  '{% set f = range["constructor"] %}${{ f("return process")() }}',
  '${{ [].constructor.constructor("return process")() }}',
  '${{ (1).constructor.constructor("return process")() }}',
  '${{ parameters.name.constructor.prototype }}',
  '${{ this }}${{ process }}${{ require }}${{ global }}${{ globalThis }}',
  '${{ lipsum.__globals__ }}',
  '${{ parameters.name | attr("constructor") }}',
];

describe('expression sandbox', () => {
  for (const payload of injections) {
    it(`refuses or neutralises ${payload}`, () => {
      let rendered: string;
      try {
        rendered = renderText(payload, context);
      } catch (err) {
        // Failing is fine, as long as the message is the template's and not a host object.
        expect((err as Error).name).toBe('ExpressionError');
        return;
      }
      expect(rendered).not.toMatch(/\[object process\]|function|native code|pid|\/usr|PATH|uid=/);
    });
  }

  it('writes nothing to the host prototypes', () => {
    try {
      renderText('{% set x = parameters.__proto__ %}${{ x }}', context);
    } catch {
      // refused is fine
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stops runaway loops and huge ranges', () => {
    expect(() => renderText('${{ range(100000000) | length }}', {})).toThrow(/range/);
    expect(() => renderText('{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}', {})).toThrow(/longer than/);
  });
});

describe('expressions', () => {
  it('keeps the type of a value that is exactly one expression and renders mixed strings as text', () => {
    expect(renderValue({ a: '${{ parameters.obj }}', b: 'x ${{ parameters.n }}', c: '${{ parameters.n }}', d: '${{ parameters.missing }}', e: ['${{ parameters.enableCI === "Yes" }}'] }, context)).toEqual({
      a: { a: [1, 2] },
      b: 'x 3',
      c: 3,
      d: undefined,
      e: [true],
    });
  });

  it("has Backstage's filters", () => {
    expect(renderValue('${{ parameters.repoUrl | parseRepoUrl }}', context)).toEqual({ host: 'plinth', owner: 'team-a', repo: 'payments' });
    expect(renderText('${{ parameters.repoUrl | projectSlug }}', context)).toBe('team-a/payments');
    expect(renderValue("${{ 'component:ns/x' | parseEntityRef }}", context)).toEqual({ kind: 'component', namespace: 'ns', name: 'x' });
    expect(renderValue("${{ 'x' | parseEntityRef({ defaultKind: 'group' }) | pick('kind') }}", context)).toBe('group');
    expect(renderText("${{ parameters.obj | pick('a[1]') }}", context)).toBe('2');
    expect(renderText('${{ parameters.name | upper }} ${{ parameters.name.toUpperCase() }}', context)).toBe('PAYMENTS PAYMENTS');
  });

  it('renders cookiecutter templates with jsonify in compat mode', () => {
    expect(renderText('name: {{ cookiecutter.name | jsonify }}', { cookiecutter: { name: 'x' } }, { cookiecutterCompat: true })).toBe('name: "x"');
  });

  it('names the problem of a broken expression', () => {
    expect(expressionProblem('${{ parameters.name ')).toMatch(/expected variable end/);
    expect(expressionProblem('{% if x %}')).toMatch(/endif|end of file/i);
    expect(expressionProblem('${{ parameters.name }}')).toBeUndefined();
  });
});
