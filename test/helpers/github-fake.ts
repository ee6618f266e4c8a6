import { createServer, type Server } from 'node:http';
import { fetchUrlText } from '../../src/catalog/reader.js';

/**
 * GitHub fake: GitHub cannot be reached from these machines, so a local server answers the
 * `https://github.com/…` URLs that fixtures reference, with a small OpenAPI document per path.
 */
export async function startGithubFake(): Promise<{ fetchUrl: typeof fetchUrlText; requested: string[]; close(): Promise<void> }> {
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    requested.push(req.url ?? '');
    res.setHeader('content-type', 'text/plain');
    res.end(`openapi: 3.0.0\ninfo:\n  title: served by the GitHub fake for ${req.url}\n  version: 1.0.0\npaths: {}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    requested,
    fetchUrl: (url, limits) => {
      const u = new URL(url);
      return fetchUrlText(u.hostname === 'github.com' ? `http://127.0.0.1:${port}${u.pathname}` : url, limits);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
