/**
 * The CI-sized load run (the full one is `npm run load`): the built proxy in its own process holds 500 client
 * sessions at once — all connected before the clock starts — each querying with its own token for 15 seconds;
 * zero errors, every answer the asker's own, and afterwards the proxy holds no more file descriptors than before.
 * Needs `npm run build` first (npm test does it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleProcess } from '../../scripts/load/memory.js';
import { startLoadPlane } from '../../scripts/load/plane.js';
import type { LoadPlane } from '../../scripts/load/plane.js';
import { percentile, runSessionLoad } from '../../scripts/load/sessions.js';

const SESSIONS = Number(process.env.LOAD_SESSIONS ?? 500);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 15);

let plane: LoadPlane;

beforeAll(async () => {
  plane = await startLoadPlane({ memoryIntervalMs: 5_000 });
});

afterAll(async () => {
  await plane?.stop();
});

describe('load', () => {
  it(`holds ${SESSIONS} querying sessions for ${SECONDS} s with zero errors`, async () => {
    const pid = plane.proxy.pid;
    const before = await sampleProcess(pid, 0);
    let peakRssKb = before.rssKb;
    const sampler = setInterval(() => {
      void sampleProcess(pid, 0).then((s) => {
        peakRssKb = Math.max(peakRssKb, s.rssKb);
      }, () => undefined);
    }, 1_000);
    const stats = await runSessionLoad({ port: plane.proxy.port, sessions: SESSIONS, durationMs: SECONDS * 1_000, users: 10 })
      .finally(() => clearInterval(sampler));
    // Every session has ended; give the proxy a moment to close its upstream connections.
    await expect.poll(async () => (await sampleProcess(pid, 0)).fds, { timeout: 10_000, interval: 250 })
      .toBeLessThanOrEqual(before.fds + 5);
    const after = await sampleProcess(pid, 0);
    console.log([
      `load: ${stats.peakOpen} sessions held at once, connected in ${stats.connectMs} ms`,
      `load: ${stats.queries} queries in ${SECONDS} s (${Math.round(stats.queries / SECONDS)}/s), p50 ` +
        `${percentile(stats.latencies, 50).toFixed(1)} ms, p99 ${percentile(stats.latencies, 99).toFixed(1)} ms, errors ${stats.errorCount}`,
      `load: proxy RSS ${(before.rssKb / 1024).toFixed(1)} MB before, ${(peakRssKb / 1024).toFixed(1)} MB at peak, ` +
        `${(after.rssKb / 1024).toFixed(1)} MB after; file descriptors ${before.fds} before, ${after.fds} after`,
    ].join('\n'));
    expect(stats.errors).toEqual([]);
    expect(stats.errorCount).toBe(0);
    expect(stats.peakOpen).toBe(SESSIONS);
    expect(stats.queries).toBeGreaterThan(SESSIONS);
  }, 180_000);
});
