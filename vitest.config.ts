import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: two test files at a time keeps PostgreSQL, git and Chromium from starving each other.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
