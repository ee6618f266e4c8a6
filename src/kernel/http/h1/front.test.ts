import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFront, type Front } from './front.js';

// The front end on real sockets, with its timeouts made short: the gateway's and the kernel's /healthz tests cover it behind them.

interface Client {
  socket: Socket;
  text: () => string;
  closed: Promise<number>;
}

function client(port: number, bytes: string): Client {
  const socket = connect(port, '127.0.0.1', () => socket.write(bytes, 'latin1'));
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => undefined);
  const opened = performance.now();
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - opened)));
  return { socket, text: () => text, closed };
}

describe('front end', () => {
  let server: Server | undefined;
  let front: Front | undefined;
  const handedOff: string[] = [];
  const sockets = new Set<Socket>();

  const start = async (keepAliveTimeoutMs: number, headersTimeoutMs: number): Promise<number> => {
    front = createFront({
      keepAliveTimeoutMs,
      headersTimeoutMs,
      handle(downstream) {
        downstream.writeHead(200, ['x-url', downstream.url]);
        if (downstream.url === '/chunks') {
          downstream.write(Buffer.from('ab'));
          downstream.write(Buffer.from('cde'));
          downstream.end(undefined);
        } else downstream.end(Buffer.from('ok'));
      },
      // What node:http would get: the socket, its unread bytes first.
      handOff(socket) {
        let seen = '';
        socket.on('data', (c: Buffer) => {
          seen += c.toString('latin1');
          if (seen.includes('hello')) {
            handedOff.push(seen);
            socket.end('HTTP/1.1 204 No Content\r\n\r\n');
          }
        });
      },
    });
    server = createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      front!.accept(socket);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  afterEach(async () => {
    front?.stop();
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    handedOff.length = 0;
  });

  it('frames a body written in parts as chunked, and one given whole with its length', async () => {
    const port = await start(5000, 60_000);
    const c = client(port, 'GET /chunks HTTP/1.1\r\nHost: a\r\n\r\nGET /whole HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await c.closed;
    expect(c.text()).toBe(
      'HTTP/1.1 200 OK\r\nx-url: /chunks\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nx-url: /whole\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok',
    );
  });

  it('hands a connection over with the request it did not take from its first byte, after the ones it served', async () => {
    const port = await start(5000, 60_000);
    const c = client(port, 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\nx-url: \/first\r\ncontent-length: 2\r\n\r\nokHTTP\/1\.1 204 No Content\r\n\r\n$/);
    expect(handedOff).toEqual(['POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello']);
  });

  it('closes a kept-alive connection idle past its timeout', async () => {
    const port = await start(300, 60_000);
    const c = client(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const after = await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(after).toBeGreaterThanOrEqual(290);
    expect(after).toBeLessThan(300 + 2 * 150 + 1000); // two sweeps (each half the timeout) late at most, with room for a busy machine
  });

  it('answers 408 to a head not complete within its timeout, and closes the connection', async () => {
    const port = await start(60_000, 300);
    const c = client(port, 'GET / HTTP/1.1\r\nHo');
    const after = await c.closed;
    expect(c.text()).toBe('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    expect(after).toBeGreaterThanOrEqual(290);
    expect(after).toBeLessThan(300 + 2 * 150 + 1000);
  });
});
