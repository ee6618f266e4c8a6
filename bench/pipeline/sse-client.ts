/**
 * The SSE client of the 20-pipelines part, in its own process so that its parsing never shares an event
 * loop with the server: `node sse-client.js <base url> <token> <run id>...` (forked with IPC).
 * It follows every run's GET /api/pipelines/runs/:id/logs/stream; a line `tick <ms>` carries the wall
 * time the step printed it, and on arrival we record now − printed. Lines printed before the stream was
 * open are not counted (they were read from the store, not streamed). Once every stream sent `end`, the
 * latencies go back over IPC.
 */
import { request } from 'node:http';

const [base, token, ...runIds] = process.argv.slice(2);
const wallMs = () => performance.timeOrigin + performance.now();
const latencies: number[] = [];
/** The same line split at the runner's timestamp (`time`, when the runner read it from the pipe): print → runner, runner → client. */
const toRunner: number[] = [];
const fromRunner: number[] = [];
let pending = runIds.length;
let errors = 0;

const send = (message: unknown) => process.send!(message, undefined, {}, () => process.exit(0));
const done = () => {
  if (--pending === 0) send({ type: 'result', latencies, toRunner, fromRunner, errors });
};
process.on('disconnect', () => process.exit(0));

for (const id of runIds) {
  const req = request(`${base}/api/pipelines/runs/${id}/logs/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
    const openedAt = wallMs();
    if (res.statusCode !== 200) {
      errors++;
      done();
      return;
    }
    res.setEncoding('utf8');
    let buffer = '';
    let ended = false;
    res.on('data', (chunk: string) => {
      const receivedAt = wallMs();
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (/^event: end$/m.test(block)) {
          ended = true;
          continue;
        }
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (data === '' || !/^event: line$/m.test(block)) continue;
        const line = JSON.parse(data) as { text: string; time: string };
        const match = /^tick (\d+(?:\.\d+)?)$/.exec(line.text);
        if (!match) continue;
        const printedAt = Number(match[1]);
        if (printedAt < openedAt) continue;
        latencies.push(receivedAt - printedAt);
        toRunner.push(Date.parse(line.time) - printedAt);
        fromRunner.push(receivedAt - Date.parse(line.time));
      }
    });
    res.on('end', () => {
      if (!ended) errors++;
      done();
    });
  });
  req.on('error', () => {
    errors++;
    done();
  });
  req.end();
}
