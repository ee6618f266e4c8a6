/**
 * SAST for TypeScript and JavaScript on the TypeScript compiler's syntax tree (parse only, no type
 * checker: fast, and it works on code that does not compile). Each rule is a sink; a finding's
 * severity depends on what reaches it: request input (tainted, through assignments and
 * destructuring within the function) is worse than a merely dynamic value, and a literal is fine.
 *
 * Written by hand because no maintained engine fits: eslint-plugin-security flags every dynamic
 * `fs` path and `obj[key]` without data flow, so its precision on real services is poor, and
 * Semgrep/CodeQL do not run from npm.
 */
import type ts from 'typescript';

export const sastRuleIds = [
  'command-injection',
  'code-injection',
  'sql-injection',
  'path-traversal',
  'ssrf',
  'prototype-pollution',
  'weak-crypto',
  'insecure-randomness',
  'tls-verification-disabled',
] as const;
export type SastRuleId = (typeof sastRuleIds)[number];

export type SastSeverity = 'critical' | 'high' | 'medium' | 'low';

export const sastRuleDescriptions: Record<SastRuleId, string> = {
  'command-injection': 'A shell command built from input: use execFile/spawn with an argument array and no shell.',
  'code-injection': 'Code evaluated from a string (eval, new Function, vm, string timers).',
  'sql-injection': 'SQL built by string concatenation or interpolation: use parameters or a tagged sql template.',
  'path-traversal': 'A file path from request input: resolve it and check it stays inside the intended folder.',
  ssrf: 'An outgoing request to a URL from request input: allow-list hosts or build the URL from trusted parts.',
  'prototype-pollution': 'A property named by request input is assigned: a key of __proto__ or constructor reaches the prototype.',
  'weak-crypto': 'A broken or weak algorithm (MD5, SHA-1, DES, RC4, ECB, createCipher without IV).',
  'insecure-randomness': 'Math.random() used for a secret value: use crypto.randomBytes or crypto.randomUUID.',
  'tls-verification-disabled': 'TLS certificate verification is turned off.',
};

export interface RawSastFinding {
  rule: SastRuleId;
  severity: SastSeverity;
  message: string;
  /** 1-based. */
  line: number;
  column: number;
}

/** `req.query.x`, `request.params`, `ctx.request.body`… : what arrives from an HTTP client. */
const SOURCE = /^(?:(?:req|request|ctx\.request|ctx|context\.req|event)\.(?:params|query|body|headers|cookies|queryStringParameters|pathParameters)|req\.(?:url|originalUrl|path))\b/;
/**
 * Calls whose result carries their input: path building, string and array methods, parsing. Any
 * other call is assumed to check or transform what it gets (a project's own `resolveInside(root, p)`),
 * so taint stops there: fewer findings, each more likely real.
 */
const PROPAGATORS = new Set([
  'join', 'resolve', 'normalize', 'String', 'toString', 'trim', 'trimStart', 'trimEnd', 'toLowerCase', 'toUpperCase', 'slice', 'substring', 'substr',
  'replace', 'replaceAll', 'concat', 'decodeURIComponent', 'decodeURI', 'format', 'keys', 'values', 'entries', 'map', 'filter', 'split', 'at', 'find',
  'from', 'assign', 'padStart', 'padEnd', 'repeat', 'flat', 'flatMap', 'reduce',
]);
const SANITIZERS = new Set(['Number', 'parseInt', 'parseFloat', 'Boolean', 'encodeURIComponent', 'basename', 'escape', 'escapeId', 'escapeLiteral', 'escapeIdentifier', 'quote', 'sanitize', 'parse', 'safeParse', 'isInteger']);
const COMMAND_SINKS = new Set(['exec', 'execSync']);
const SPAWN_SINKS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'fork']);
const CHILD_PROCESS_NAMES = new Set(['child_process', 'childProcess', 'cp', 'proc', 'shell', 'execa']);
const SQL_METHODS = new Set(['query', 'execute', 'raw', 'unsafe', '$queryRawUnsafe', '$executeRawUnsafe', 'prepare', 'all', 'run', 'get', 'exec']);
const SQL_TEXT = /^\s*(select|insert|update|delete|with|create|drop|alter)\b/i;
const FS_METHODS = new Set([
  'readFile', 'readFileSync', 'createReadStream', 'writeFile', 'writeFileSync', 'createWriteStream', 'appendFile', 'appendFileSync',
  'unlink', 'unlinkSync', 'rm', 'rmSync', 'readdir', 'readdirSync', 'open', 'openSync', 'stat', 'statSync', 'access', 'accessSync',
  'copyFile', 'copyFileSync', 'rename', 'renameSync', 'sendFile', 'download',
]);
const HTTP_CLIENTS = new Set(['fetch', 'got', 'needle', 'superagent']);
const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'request']);
const HTTP_MODULES = new Set(['http', 'https', 'axios', 'got', 'undici', 'needle', 'request', 'superagent']);
const WEAK_HASHES = new Set(['md5', 'md4', 'sha1', 'sha-1', 'ripemd', 'ripemd160']);
const WEAK_CIPHER = /(^|[-_])(des|des3|3des|rc2|rc4|bf|blowfish)([-_]|$)|(^|-)ecb$/i;
const SECRET_NAME = /token|secret|password|passwd|apikey|api_key|nonce|salt|session|otp|key$/i;
const TIMERS = new Set(['setTimeout', 'setInterval', 'setImmediate']);
const VM_METHODS = new Set(['runInThisContext', 'runInNewContext', 'runInContext', 'compileFunction', 'Script']);

type Reach = 'tainted' | 'dynamic' | 'literal';

export function analyzeSource(ts_: typeof ts, file: ts.SourceFile): RawSastFinding[] {
  const findings: RawSastFinding[] = [];
  /** Names holding request input, per function scope (the file is the outermost scope). */
  const scopes: Set<string>[] = [new Set()];
  const tainted = (name: string) => scopes.some((s) => s.has(name));
  /** `const` names bound to literals (a table name, a fixed command): as safe as the literal. */
  const constants: Set<string>[] = [new Set()];
  const constant = (name: string) => constants.some((s) => s.has(name));
  /** Names holding SQL text built from request input (`q = "SELECT … " + id`), for `db.query(q)`. */
  const taintedSql = new Set<string>();

  const report = (node: ts.Node, rule: SastRuleId, severity: SastSeverity, message: string) => {
    const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
    findings.push({ rule, severity, message, line: line + 1, column: character + 1 });
  };

  /** What reaches a sink: request input, some non-literal value, or only literals. */
  function reach(node: ts.Node): Reach {
    if (ts_.isStringLiteral(node) || ts_.isNoSubstitutionTemplateLiteral(node) || ts_.isNumericLiteral(node)) return 'literal';
    if (ts_.isParenthesizedExpression(node) || ts_.isAsExpression(node) || ts_.isNonNullExpression(node)) return reach(node.expression);
    if (ts_.isCallExpression(node)) {
      const callee = calleeName(node.expression);
      if (callee === 'parse' && receiverName(node.expression) === 'JSON') return worst(node.arguments.map(reach));
      if (callee === undefined || SANITIZERS.has(callee) || !PROPAGATORS.has(callee)) return 'dynamic';
      const receiver = ts_.isPropertyAccessExpression(node.expression) ? [reach(node.expression.expression)] : [];
      return worst([...receiver, ...node.arguments.map(reach)]);
    }
    if (isSource(node)) return 'tainted';
    if (ts_.isIdentifier(node)) return tainted(node.text) ? 'tainted' : constant(node.text) ? 'literal' : 'dynamic';
    if (ts_.isTemplateExpression(node)) return worst(node.templateSpans.map((s) => reach(s.expression)));
    if (ts_.isBinaryExpression(node) && node.operatorToken.kind === ts_.SyntaxKind.PlusToken) return worst([reach(node.left), reach(node.right)]);
    if (ts_.isConditionalExpression(node)) return worst([reach(node.whenTrue), reach(node.whenFalse)]);
    if (ts_.isArrayLiteralExpression(node)) return node.elements.length === 0 ? 'literal' : worst(node.elements.map(reach));
    let found: Reach = 'dynamic';
    const visit = (child: ts.Node): void => {
      if (found === 'tainted') return;
      if (isSource(child) || (ts_.isIdentifier(child) && tainted(child.text) && !isPropertyName(child))) found = 'tainted';
      else if (ts_.isCallExpression(child)) {
        if (reach(child) === 'tainted') found = 'tainted';
      } else ts_.forEachChild(child, visit);
    };
    ts_.forEachChild(node, visit);
    return found;
  }

  const worst = (reaches: Reach[]): Reach => (reaches.includes('tainted') ? 'tainted' : reaches.includes('dynamic') ? 'dynamic' : 'literal');

  function isPropertyName(id: ts.Identifier): boolean {
    const parent = id.parent;
    return (ts_.isPropertyAccessExpression(parent) && parent.name === id) || (ts_.isPropertyAssignment(parent) && parent.name === id);
  }

  function isSource(node: ts.Node): boolean {
    if (!ts_.isPropertyAccessExpression(node) && !ts_.isElementAccessExpression(node)) return false;
    return SOURCE.test(node.getText(file));
  }

  function calleeName(expression: ts.Expression): string | undefined {
    if (ts_.isIdentifier(expression)) return expression.text;
    if (ts_.isPropertyAccessExpression(expression)) return expression.name.text;
    return undefined;
  }

  function receiverName(expression: ts.Expression): string | undefined {
    if (!ts_.isPropertyAccessExpression(expression)) return undefined;
    const target = expression.expression;
    if (ts_.isIdentifier(target)) return target.text;
    if (ts_.isPropertyAccessExpression(target)) return target.name.text;
    return undefined;
  }

  function bindTaint(name: ts.BindingName, value: ts.Expression | undefined): void {
    if (value === undefined || reach(value) !== 'tainted') return;
    const scope = scopes[scopes.length - 1]!;
    if (ts_.isIdentifier(name)) scope.add(name.text);
    else for (const element of name.elements) if (!ts_.isOmittedExpression(element)) bindNames(element.name, scope);
  }

  function bindNames(name: ts.BindingName, scope: Set<string>): void {
    if (ts_.isIdentifier(name)) scope.add(name.text);
    else for (const element of name.elements) if (!ts_.isOmittedExpression(element)) bindNames(element.name, scope);
  }

  function hasShellOption(args: readonly ts.Expression[]): boolean {
    return args.some((a) => ts_.isObjectLiteralExpression(a) && a.properties.some((p) => ts_.isPropertyAssignment(p) && p.name.getText(file) === 'shell' && p.initializer.kind !== ts_.SyntaxKind.FalseKeyword));
  }

  function checkCall(node: ts.CallExpression | ts.NewExpression): void {
    const name = calleeName(node.expression);
    const args = node.arguments ?? ts_.factory.createNodeArray();
    const first = args[0];
    if (name === undefined) return;
    const receiver = receiverName(node.expression);

    // `exec` is also RegExp#exec and many clients' method: only a bare (imported) exec or child_process's counts.
    const childProcessCall = ts_.isIdentifier(node.expression) || (receiver !== undefined && CHILD_PROCESS_NAMES.has(receiver));
    if (COMMAND_SINKS.has(name) && first !== undefined && childProcessCall) {
      const r = reach(first);
      if (r === 'tainted') report(node, 'command-injection', 'critical', `${name}() runs a shell command built from request input`);
      else if (r === 'dynamic') report(node, 'command-injection', 'medium', `${name}() runs a shell command built at run time; prefer execFile with an argument array`);
    }
    if (SPAWN_SINKS.has(name) && first !== undefined && childProcessCall) {
      const r = worst([reach(first), hasShellOption(args) && args[1] !== undefined ? reach(args[1]) : 'literal']);
      if (r === 'tainted' && (hasShellOption(args) || reach(first) === 'tainted')) report(node, 'command-injection', 'critical', `${name}() ${hasShellOption(args) ? 'with shell: true ' : ''}runs a command named by request input`);
    }

    if ((name === 'eval' && receiver === undefined) || (ts_.isNewExpression(node) && name === 'Function') || (name === 'Function' && receiver === undefined)) {
      const r = worst(args.map(reach));
      if (r !== 'literal' && args.length > 0) report(node, 'code-injection', r === 'tainted' ? 'critical' : 'high', `${name === 'eval' ? 'eval()' : 'new Function()'} evaluates ${r === 'tainted' ? 'request input' : 'a string built at run time'} as code`);
    }
    if (TIMERS.has(name) && first !== undefined && receiver === undefined && (ts_.isStringLiteral(first) || ts_.isTemplateExpression(first) || ts_.isBinaryExpression(first))) {
      report(node, 'code-injection', reach(first) === 'tainted' ? 'critical' : 'medium', `${name}() with a string evaluates it as code; pass a function`);
    }
    if (VM_METHODS.has(name) && receiver === 'vm' && first !== undefined && reach(first) !== 'literal') {
      report(node, 'code-injection', reach(first) === 'tainted' ? 'critical' : 'high', `vm.${name}() evaluates ${reach(first) === 'tainted' ? 'request input' : 'a string built at run time'} as code`);
    }

    if (SQL_METHODS.has(name) && receiver !== undefined && first !== undefined && holdsTaintedSql(first)) {
      report(node, 'sql-injection', 'critical', `${receiver}.${name}() runs SQL built from request input`);
    } else if (SQL_METHODS.has(name) && receiver !== undefined && first !== undefined && looksLikeSql(first)) {
      // Only request input counts: SQL assembled from placeholders or identifiers the code controls is
      // routine (`IN (${placeholders})`), and flagging it would bury the real injections.
      const built = ts_.isTemplateExpression(first) || (ts_.isBinaryExpression(first) && first.operatorToken.kind === ts_.SyntaxKind.PlusToken);
      if (built && reach(first) === 'tainted') report(node, 'sql-injection', 'critical', `${receiver}.${name}() runs SQL built from request input`);
    }

    if (FS_METHODS.has(name) && first !== undefined && reach(first) === 'tainted' && (receiver === undefined || /^(fs|fsp|promises|res|reply|response)$/.test(receiver))) {
      report(node, 'path-traversal', 'high', `${receiver !== undefined ? `${receiver}.` : ''}${name}() opens a path taken from request input`);
    }

    const isHttpCall = (receiver === undefined && HTTP_CLIENTS.has(name)) || (receiver !== undefined && HTTP_MODULES.has(receiver) && HTTP_METHODS.has(name));
    if (isHttpCall && first !== undefined && urlReach(first) === 'tainted') {
      report(node, 'ssrf', 'high', `${receiver !== undefined ? `${receiver}.` : ''}${name}() requests a URL taken from request input`);
    }

    if (name === 'createHash' && first !== undefined && ts_.isStringLiteralLike(first) && WEAK_HASHES.has(first.text.toLowerCase())) {
      report(node, 'weak-crypto', 'medium', `createHash('${first.text}'): ${first.text.toUpperCase()} is broken for integrity and passwords; use SHA-256 or better`);
    }
    if (name === 'createCipher' || name === 'createDecipher') report(node, 'weak-crypto', 'high', `${name}() derives the key without salt and has no IV (removed in Node 22); use createCipheriv with a random IV`);
    if ((name === 'createCipheriv' || name === 'createDecipheriv') && first !== undefined && ts_.isStringLiteralLike(first) && WEAK_CIPHER.test(first.text)) {
      report(node, 'weak-crypto', 'high', `${name}('${first.text}'): a weak cipher or mode; use aes-256-gcm`);
    }
  }

  /** A URL built from a trusted base with input only after the host (a path or query) is not SSRF. */
  function urlReach(node: ts.Expression): Reach {
    if (ts_.isTemplateExpression(node)) {
      const head = node.head.text;
      if (/^https?:\/\/[^/]+\//.test(head)) return 'dynamic';
      return reach(node);
    }
    if (ts_.isBinaryExpression(node) && node.operatorToken.kind === ts_.SyntaxKind.PlusToken && ts_.isStringLiteralLike(node.left) && /^https?:\/\/[^/]+\//.test(node.left.text)) return 'dynamic';
    if (ts_.isNewExpression(node) && calleeName(node.expression) === 'URL' && node.arguments !== undefined && node.arguments.length >= 2) {
      // new URL(path, trustedBase): the base decides the host unless the path is absolute.
      return reach(node.arguments[1]!) === 'tainted' ? 'tainted' : 'dynamic';
    }
    return reach(node);
  }

  function leftmost(node: ts.Expression): ts.Expression {
    let left = node;
    while (ts_.isBinaryExpression(left) || ts_.isParenthesizedExpression(left)) left = ts_.isBinaryExpression(left) ? left.left : left.expression;
    return left;
  }

  function holdsTaintedSql(node: ts.Expression): boolean {
    const left = leftmost(node);
    return ts_.isIdentifier(left) && taintedSql.has(left.text);
  }

  function noteSql(name: string, value: ts.Expression): void {
    if (looksLikeSql(value) && reach(value) === 'tainted') taintedSql.add(name);
  }

  function looksLikeSql(node: ts.Expression): boolean {
    if (ts_.isTemplateExpression(node)) return SQL_TEXT.test(node.head.text);
    if (ts_.isBinaryExpression(node)) {
      let left: ts.Expression = node;
      while (ts_.isBinaryExpression(left)) left = left.left;
      return ts_.isStringLiteralLike(left) && SQL_TEXT.test(left.text);
    }
    return false;
  }

  function functionGuardsProto(node: ts.Node): boolean {
    let fn: ts.Node | undefined = node.parent;
    while (fn !== undefined && !ts_.isFunctionLike(fn) && !ts_.isSourceFile(fn)) fn = fn.parent;
    const text = (fn ?? file).getText(file);
    return /__proto__|hasOwn(Property)?\(|Object\.create\(null\)|new Map\(|isSafeKey|forbiddenKeys/.test(text);
  }

  function visit(node: ts.Node): void {
    const opensScope = ts_.isFunctionLike(node);
    if (opensScope) {
      scopes.push(new Set());
      constants.push(new Set());
    }
    try {
      if (ts_.isVariableDeclaration(node)) {
        bindTaint(node.name, node.initializer);
        if (ts_.isIdentifier(node.name) && node.initializer !== undefined) noteSql(node.name.text, node.initializer);
        const isConst = ts_.isVariableDeclarationList(node.parent) && (node.parent.flags & ts_.NodeFlags.Const) !== 0;
        if (isConst && ts_.isIdentifier(node.name) && node.initializer !== undefined && reach(node.initializer) === 'literal') constants[constants.length - 1]!.add(node.name.text);
      }
      if (ts_.isBinaryExpression(node) && node.operatorToken.kind === ts_.SyntaxKind.EqualsToken) {
        if (ts_.isIdentifier(node.left) && reach(node.right) === 'tainted') {
          scopes[scopes.length - 1]!.add(node.left.text);
          noteSql(node.left.text, node.right);
        }
        if (ts_.isElementAccessExpression(node.left) && reach(node.left.argumentExpression) === 'tainted' && !functionGuardsProto(node)) {
          report(node, 'prototype-pollution', 'high', 'an object property named by request input is assigned; check the key against __proto__, constructor and prototype, or use a Map');
        }
        const target = node.left.getText(file);
        if (/process\.env(\.NODE_TLS_REJECT_UNAUTHORIZED|\[['"]NODE_TLS_REJECT_UNAUTHORIZED['"]\])/.test(target) && ts_.isStringLiteralLike(node.right) && node.right.text === '0') {
          report(node, 'tls-verification-disabled', 'high', 'NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks for every TLS connection of the process');
        }
      }
      if (ts_.isForInStatement(node) || ts_.isForOfStatement(node)) {
        const init = node.initializer;
        if (ts_.isVariableDeclarationList(init) && reach(node.expression) === 'tainted') for (const d of init.declarations) bindNames(d.name, scopes[scopes.length - 1]!);
      }
      if (ts_.isCallExpression(node) || ts_.isNewExpression(node)) checkCall(node);
      if (ts_.isPropertyAssignment(node)) {
        const key = node.name.getText(file).replace(/['"]/g, '');
        if ((key === 'rejectUnauthorized' || key === 'strictSSL') && node.initializer.kind === ts_.SyntaxKind.FalseKeyword) {
          report(node, 'tls-verification-disabled', 'high', `${key}: false accepts any certificate, so anyone on the path can read and change the traffic`);
        }
      }
      if (ts_.isVariableDeclaration(node) && ts_.isIdentifier(node.name) && SECRET_NAME.test(node.name.text) && node.initializer !== undefined && /\bMath\.random\(\)/.test(node.initializer.getText(file))) {
        report(node, 'insecure-randomness', 'medium', `${node.name.text} comes from Math.random(), which is predictable; use crypto.randomBytes or crypto.randomUUID`);
      }
      ts_.forEachChild(node, visit);
    } finally {
      if (opensScope) {
        scopes.pop();
        constants.pop();
      }
    }
  }

  visit(file);
  return findings;
}
