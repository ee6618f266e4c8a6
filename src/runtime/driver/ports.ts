import { createServer } from 'node:net';

/**
 * A free loopback port, found by binding port 0. Another process may take it before the replica
 * binds; the replica then exits with EADDRINUSE, which the release reports as "port in use".
 */
export function allocatePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
