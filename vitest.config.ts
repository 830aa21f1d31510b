import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts its own PostgreSQL test bed; two cores run two files at once.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
