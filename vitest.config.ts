import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a browser or a server to reach a state; vitest's 1 s default fails
    // healthy runs on a busy two-core CI machine (Playwright's own expect waits 5 s).
    expect: { poll: { timeout: 10_000 } },
    // Two cores: two test files at a time keeps PostgreSQL, git and Chromium from starving each other.
    maxWorkers: 2,
    // .ci/run asks for a JSON summary so it can print the plain "N passed, N failed" closing line.
    reporters: process.env.PLINTH_TEST_SUMMARY_FILE ? ['default', 'json'] : ['default'],
    outputFile: process.env.PLINTH_TEST_SUMMARY_FILE ? { json: process.env.PLINTH_TEST_SUMMARY_FILE } : undefined,
  },
});
