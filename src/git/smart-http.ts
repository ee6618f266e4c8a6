import { PassThrough, Readable, Transform, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { InputError, NotFoundError, PayloadTooLargeError, statusForError } from '../kernel/index.js';
import { GitPathParams, gitProtocolOf, isProtocolV2, pktLine, type GitService } from './model/index.js';
import type { Git } from './service.js';
import type { GitTransport, ServiceProcess } from './transport.js';

// git's smart HTTP protocol (gitprotocol-http(5)) at /git/<owner>/<repo>.git/…, served by spawning
// `git upload-pack|receive-pack --stateless-rpc` per request rather than the `git http-backend` CGI: the
// server then streams both directions itself (gunzip included) with Node's backpressure, counts what
// it forwards, and keeps git's own request handling (http-backend spools fetch requests to memory).

const requestType: Record<GitService, string> = {
  'upload-pack': 'application/x-git-upload-pack-request',
  'receive-pack': 'application/x-git-receive-pack-request',
};
/** Room above maxPackBytes for the command list that precedes the pack in a push. */
const commandAllowanceBytes = 1024 * 1024;
const noCache = { 'cache-control': 'no-cache, max-age=0, must-revalidate', pragma: 'no-cache', expires: 'Fri, 01 Jan 1980 00:00:00 GMT' };

const InfoRefsQuery = z.object({
  service: z.enum(['git-upload-pack', 'git-receive-pack'], {
    message: 'Plinth serves git\u2019s smart HTTP protocol only; ask with ?service=git-upload-pack or git-receive-pack (git 1.6.6 or later does)',
  }),
});

/**
 * Errors as text/plain: git prints a text/plain error body to the user as "remote: …" lines (http.c,
 * show_http_message) and ignores any other type, so the Backstage JSON shape of /api would be lost here.
 * A 401 carries `WWW-Authenticate: Basic`, which makes git ask its credential helper or the user.
 */
function sendGitError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const fastifyError = error as Partial<FastifyError>;
  let status = statusForError(error);
  let message = error.message;
  if (status === undefined && Array.isArray(fastifyError.validation)) {
    status = 400;
    message = fastifyError.validation.map((v) => `${fastifyError.validationContext ?? 'request'}${(v.instancePath ?? '').replace(/\//g, '.')}: ${v.message ?? 'invalid'}`).join('; ');
  } else if (status === undefined && typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500 && fastifyError.code?.startsWith('FST_')) {
    status = fastifyError.statusCode;
  }
  if (status === undefined) {
    request.log.error({ err: error }, 'internal error');
    status = 500;
    message = `internal error, logId=${request.id}`;
  }
  if (status === 401) reply.header('www-authenticate', 'Basic realm="Plinth", charset="UTF-8"');
  return reply.code(status).type('text/plain; charset=utf-8').send(`${message}\n`);
}

/**
 * Sends git's stdout as the response body and ends it only once git exited and, for a push, its events
 * are in the ledger, so `git push` returns after the push is recorded. When the client goes away, a
 * fetch is stopped; a push runs to its end with its output drained, because killing it between the ref
 * update and the post-receive hook would lose the push's event.
 */
function relayOutput(proc: ServiceProcess, reply: FastifyReply, out: PassThrough, options: { stopOnDisconnect: boolean }) {
  proc.stdout.pipe(out, { end: false });
  void proc.done.then(({ exitCode, stderr }) => {
    if (exitCode !== 0) reply.log.warn({ exitCode, stderr: stderr.slice(-1000), repository: proc.repository.fullName }, 'git exited with an error');
    out.end();
  });
  reply.raw.once('close', () => {
    if (reply.raw.writableFinished) return;
    proc.stdout.unpipe(out);
    proc.stdout.resume();
    if (options.stopOnDisconnect) proc.kill();
  });
}

/**
 * Streams the request body (gunzipped when the client compressed it) into git's stdin. When git stops
 * reading early because it refused the request (a pack past receive.maxInputSize), the rest of the body
 * is drained, not destroyed: closing a socket with unread data resets it, and the client would lose
 * git's report. Past `limitBytes` — a backstop git's own limit normally makes unreachable — git is
 * killed and the connection dropped.
 */
function feedRequest(body: Readable, gzip: boolean, limitBytes: number, proc: ServiceProcess, log: FastifyBaseLogger) {
  let failure: 'client' | 'too-large' | undefined;
  // pipeline() destroys its source on error; the request must outlive git's stdin to carry the response.
  const shield = new PassThrough();
  shield.on('error', () => undefined);
  body.pipe(shield);
  body.once('error', (err) => {
    failure ??= 'client';
    shield.destroy(err);
  });
  body.once('close', () => {
    if (body.readableEnded) return;
    failure ??= 'client';
    shield.destroy(new Error('the client closed the request before its end'));
  });
  let received = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received <= limitBytes) return callback(null, chunk);
      failure ??= 'too-large';
      callback(new PayloadTooLargeError(`request is larger than ${limitBytes} bytes`));
    },
  });
  const stages: (Readable | Transform)[] = [shield];
  if (gzip) {
    const gunzip = createGunzip();
    gunzip.once('error', () => (failure ??= 'client'));
    stages.push(gunzip);
  }
  stages.push(limiter);
  pipeline([...stages, proc.stdin], (err) => {
    if (!err) return;
    if (failure === 'too-large') {
      log.warn({ repository: proc.repository.fullName, limitBytes }, 'git request over the hard limit; connection dropped');
      proc.kill();
      body.destroy();
    } else if (failure === 'client') {
      // git sees its input end and abandons the exchange; a push that did not arrive whole changes nothing.
      log.info({ err: err.message, repository: proc.repository.fullName }, 'git request ended early');
    } else {
      // Drained, but not without end: past the hard limit a client still sending is cut off.
      body.unpipe(shield);
      body.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limitBytes) body.destroy();
      });
      body.resume();
    }
  });
}

/** The validated parts of a POST to git-upload-pack or git-receive-pack, refused before git starts. */
function checkRpcRequest(request: FastifyRequest, service: GitService, limits: GitTransport['limits']) {
  const contentType = request.headers['content-type'];
  if (contentType !== requestType[service]) throw new InputError(`content-type: expected ${requestType[service]}, found ${contentType ?? 'none'}`);
  const body = request.body;
  if (!(body instanceof Readable)) throw new InputError(`body: expected a git ${service} request`);
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const gzip = encoding === 'gzip' || encoding === 'x-gzip';
  if (!gzip && encoding !== 'identity') throw new InputError(`content-encoding: "${encoding}" is not supported; send gzip or none`);
  const limitBytes = service === 'receive-pack' ? limits.maxPackBytes + commandAllowanceBytes : limits.maxFetchRequestBytes;
  const declared = Number(request.headers['content-length']);
  if (!gzip && declared > limitBytes) throw new PayloadTooLargeError(`this ${service === 'receive-pack' ? 'push' : 'fetch'} sends ${declared} bytes; the limit is ${limitBytes}`);
  const protocol = service === 'upload-pack' ? gitProtocolOf(request.headers['git-protocol']) : undefined;
  return { body, gzip, limitBytes, protocol };
}

/** `/git/<owner>/<repo>.git/…`: git's smart HTTP, authenticated with API tokens over HTTP Basic. */
export function gitHttpRoutes(git: Git): FastifyPluginAsyncZod {
  const { transport } = git;
  return async (app) => {
    // Packs pass through untouched: no parser reads them into memory, and the kernel's JSON body limit
    // does not apply (the limits of feedRequest do). Registered here, so /api keeps its parsers.
    app.addContentTypeParser([requestType['upload-pack'], requestType['receive-pack']], (_request, payload, done) => done(null, payload));
    app.setErrorHandler(sendGitError);
    app.setNotFoundHandler((request) => {
      throw new NotFoundError(`no git route for ${request.method} ${request.url.split('?')[0]}; clone from /git/<owner>/<repo>.git`);
    });

    // Anonymous read is refused like everything else (DESIGN: secure by default). A Bearer token the
    // kernel accepted stands; a portal session cookie is not a git credential.
    app.addHook('onRequest', async (request) => {
      const given = request.principal;
      if (given?.kind === 'user' && given.authMethod === 'token') return;
      request.principal = undefined;
      request.principal = await transport.authenticate(request.headers.authorization);
    });

    app.get(
      '/:owner/:repo/info/refs',
      { config: { auth: 'public' }, schema: { hide: true, params: GitPathParams, querystring: InfoRefsQuery } },
      async (request, reply) => {
        const service: GitService = request.query.service === 'git-receive-pack' ? 'receive-pack' : 'upload-pack';
        const protocol = service === 'upload-pack' ? gitProtocolOf(request.headers['git-protocol']) : undefined;
        const proc = await transport.start(request.principal!, request.params.owner, request.params.repo, service, { advertiseRefs: true, protocol });
        proc.stdin.end();
        const out = new PassThrough();
        // The first response names the service, except under protocol v2 (gitprotocol-http(5)).
        if (!isProtocolV2(protocol)) out.write(`${pktLine(`# service=git-${service}\n`)}0000`);
        relayOutput(proc, reply, out, { stopOnDisconnect: true });
        return reply.headers({ 'content-type': `application/x-git-${service}-advertisement`, ...noCache }).send(out);
      },
    );

    for (const service of ['upload-pack', 'receive-pack'] as const) {
      app.post(
        `/:owner/:repo/git-${service}`,
        { config: { auth: 'public', audit: service === 'receive-pack' ? 'git.push' : false }, schema: { hide: true, params: GitPathParams } },
        async (request, reply) => {
          const { body, gzip, limitBytes, protocol } = checkRpcRequest(request, service, transport.limits);
          const proc = await transport.start(request.principal!, request.params.owner, request.params.repo, service, { advertiseRefs: false, protocol });
          feedRequest(body, gzip, limitBytes, proc, request.log);
          const out = new PassThrough();
          relayOutput(proc, reply, out, { stopOnDisconnect: service === 'upload-pack' });
          return reply.headers({ 'content-type': `application/x-git-${service}-result`, ...noCache }).send(out);
        },
      );
    }
  };
}
