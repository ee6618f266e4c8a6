import pg from 'pg';

/**
 * Test support: whether a local server a test needs (Redis, NATS, PostgreSQL) is there. A local run
 * without it skips with a visible reason; under CI=true its absence fails the run.
 */
export async function requireService(what: string, probe: () => Promise<void>, env: Record<string, string | undefined>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (err) {
    const reason = `${what} is unavailable (${(err as Error).message})`;
    if (env.CI === 'true') throw new Error(`${reason}; CI needs it (.ci/run starts it)`);
    process.stderr.write(`\n[skip] ${reason}\n`);
    return false;
  }
}

/** The local PostgreSQL server the providers' tests provision on (trust auth, as on CI). */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** One statement on its own connection: what a test checks on the server, outside Plinth's pools. */
export async function pgQuery<T extends pg.QueryResultRow>(text: string, values: unknown[] = [], url = LOCAL_POSTGRES_URL): Promise<pg.QueryResult<T>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<T>(text, values);
  } finally {
    await client.end();
  }
}
