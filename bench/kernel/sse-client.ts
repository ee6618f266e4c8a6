/**
 * The SSE client of figure 7, in its own process so its parsing never shares an event loop with the
 * server: `node sse-client.js <stream url> <token> <expected events>` (forked with IPC).
 * Each event's payload.tokenId carries its send time; on arrival we record now − sent and, once all
 * expected events arrived (or the parent says "finish"), send the latencies back over IPC.
 */
import { request } from 'node:http';

const [url, token, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);
const latencies: number[] = [];
const wallMs = () => performance.timeOrigin + performance.now();
const send = (message: unknown, then?: () => void) => process.send!(message, undefined, {}, () => then?.());

let reported = false;
function report() {
  if (reported) return;
  reported = true;
  send({ type: 'result', latencies }, () => process.exit(0));
}
process.on('message', (message: { type?: string }) => {
  if (message.type === 'finish') report();
});
process.on('disconnect', () => process.exit(0));

const req = request(url!, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
  if (res.statusCode !== 200) {
    send({ type: 'error', message: `stream answered ${res.statusCode}` }, () => process.exit(1));
    return;
  }
  res.setEncoding('utf8');
  let buffer = '';
  res.on('data', (chunk: string) => {
    const receivedAt = wallMs();
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(': ready')) send({ type: 'ready' });
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      if (data === '') continue;
      const event = JSON.parse(data) as { payload: { tokenId: string } };
      latencies.push(receivedAt - Number(event.payload.tokenId));
      if (latencies.length >= expected) report();
    }
  });
  res.on('end', report);
});
req.on('error', (err) => send({ type: 'error', message: err.message }, () => process.exit(1)));
req.end();
