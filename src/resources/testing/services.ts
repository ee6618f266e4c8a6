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
