/**
 * Faults between the proxy and what it depends on — the Redshift endpoint and the AWS API. Each must reach the
 * client as an ErrorResponse with SQLSTATE 08001, a message naming the reason and a hint, within the configured
 * timeout; and once the fault ends, the very next connection must work, with nothing restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { issueCert } from '../support/certs.js';
import { withClient } from '../support/clients.js';
import { refusal } from '../support/refusals.js';
import type { Refusal } from '../support/refusals.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { FaultyUpstream } from './faulty-upstream.js';
import type { UpstreamFault } from './faulty-upstream.js';

const CONNECT_TIMEOUT_MS = 1_500;
const STARTUP_TIMEOUT_MS = 4_000;
/** Scheduling slack on a busy CI machine, added to every deadline. */
const SLACK_MS = 1_500;

let stack: Stack;
let faulty: FaultyUpstream;
let certDir: string;
/** A proxy whose upstream is the faulty endpoint. */
let viaFaulty: RunningProxy;
/** A proxy on the real bed, for the AWS API faults. */
let direct: RunningProxy;
/** Counted in the closing note: every fault below that the proxy reported and recovered from. */
const survived: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  certDir = await mkdtemp(path.join(tmpdir(), 'rap-faults-'));
  // The fake server's certificate is as good as the real one: verification passes, so what fails is the fault.
  const cert = await issueCert(stack.bed.ca, certDir, 'faulty-upstream', { dns: ['localhost'], ips: ['127.0.0.1'] });
  faulty = await FaultyUpstream.start({ host: '127.0.0.1', port: stack.bed.port }, cert);
  const limits = { connectTimeoutMs: CONNECT_TIMEOUT_MS, startupTimeoutMs: STARTUP_TIMEOUT_MS };
  viaFaulty = await stack.startProxy({ upstreamHost: '127.0.0.1', upstreamPort: faulty.port }, limits);
  direct = await stack.startProxy({}, limits);
});

afterAll(async () => {
  console.log(`faults survived (${survived.length}):\n${survived.map((s) => `  ${s}`).join('\n')}`);
  await faulty?.close();
  await stack?.stop();
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

const portOf = (p: RunningProxy): number => p.addresses[0]?.port as number;

async function timedRefusal(p: RunningProxy, user: string): Promise<Refusal & { ms: number }> {
  const started = Date.now();
  const r = await refusal(portOf(p), user);
  return { ...r, ms: Date.now() - started };
}

async function logsIn(p: RunningProxy, user: string): Promise<void> {
  const u = await withClient(portOf(p), user, async (c) => (await c.query('select current_user as u')).rows[0].u as string);
  expect(u).toBe(`IAMA:${user}`);
}


describe('the Redshift endpoint fails', () => {
  const cases: Array<{ fault: UpstreamFault; reason: RegExp; within: number }> = [
    { fault: 'refuse', reason: /cannot connect to Redshift at 127\.0\.0\.1:\d+: ECONNREFUSED/, within: 1_000 },
    { fault: 'blackhole', reason: new RegExp(`did not complete a TLS connection within ${CONNECT_TIMEOUT_MS} ms`), within: CONNECT_TIMEOUT_MS },
    { fault: 'close-after-S', reason: /TLS handshake with 127\.0\.0\.1 failed/, within: 1_000 },
    { fault: 'garbage-after-S', reason: /TLS handshake with 127\.0\.0\.1 failed/, within: 1_000 },
    { fault: 'injected-after-S', reason: /unexpected data after agreeing to TLS/, within: 1_000 },
    { fault: 'reset-after-startup', reason: /during login/, within: 1_000 },
    { fault: 'silent-after-startup', reason: new RegExp(`took longer than ${STARTUP_TIMEOUT_MS} ms`), within: STARTUP_TIMEOUT_MS },
  ];

  it.each(cases)('$fault: 08001 with the reason and a hint, then the next connection works', async ({ fault, reason, within }) => {
    await faulty.setFault(fault);
    const accepted = faulty.connections;
    const r = await timedRefusal(viaFaulty, `fault-${fault}`);
    expect(r).toMatchObject({ code: '08001', severity: 'FATAL' });
    expect(r.message).toMatch(reason);
    expect(r.hint).toBeTruthy();
    expect(r.ms).toBeLessThan(within + SLACK_MS);
    if (fault !== 'refuse') expect(faulty.connections).toBeGreaterThan(accepted);

    await faulty.setFault('none');
    await logsIn(viaFaulty, `fault-${fault}`);
    survived.push(`upstream ${fault} (${r.ms} ms: ${r.message})`);
  });
});

describe('the AWS API fails', () => {
  it('is down (connections reset): new identities get 08001 naming the API; cached ones still log in; then it recovers', async () => {
    await logsIn(direct, 'cached-during-outage');
    stack.emulator.setAvailable(false);
    try {
      const r = await timedRefusal(direct, 'api-down');
      expect(r).toMatchObject({ code: '08001' });
      expect(r.message).toMatch(/cannot reach the AWS API/);
      expect(r.hint).toMatch(/network|--aws-endpoint-url/);
      expect(r.ms).toBeLessThan(STARTUP_TIMEOUT_MS + SLACK_MS);
      // A credential already held needs no API call: the outage does not reach those users.
      await logsIn(direct, 'cached-during-outage');
      survived.push(`API down, reset (${r.ms} ms: ${r.message})`);
    } finally {
      stack.emulator.setAvailable(true);
    }
    await logsIn(direct, 'api-down');
  });

  it('answers 503: 08001 naming the failure, then it recovers', async () => {
    stack.emulator.setAvailable(false, '503');
    try {
      const r = await timedRefusal(direct, 'api-503');
      expect(r).toMatchObject({ code: '08001' });
      expect(r.message).toMatch(/temporary Redshift credentials|AWS/);
      expect(`${r.message} ${r.detail ?? ''}`).toMatch(/ServiceUnavailable/);
      expect(r.hint).toBeTruthy();
      expect(r.ms).toBeLessThan(STARTUP_TIMEOUT_MS + SLACK_MS);
      survived.push(`API down, 503 (${r.ms} ms: ${r.message})`);
    } finally {
      stack.emulator.setAvailable(true);
    }
    await logsIn(direct, 'api-503');
  });

  it('throttles for a long stretch: every client gets 08001 "throttling" in time, the API is not hammered, and it recovers', async () => {
    stack.emulator.resetCounters();
    stack.emulator.inject({ action: 'GetClusterCredentials', error: 'Throttling', times: 1_000 });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await timedRefusal(direct, 'throttled');
        expect(r).toMatchObject({ code: '08001' });
        expect(r.message).toMatch(/throttling/);
        expect(r.hint).toBeTruthy();
        expect(r.ms).toBeLessThan(STARTUP_TIMEOUT_MS + SLACK_MS);
      }
      // Twenty clients at once share one run of retries rather than making twenty.
      const before = stack.emulator.calls.GetClusterCredentials;
      const burst = await Promise.all(Array.from({ length: 20 }, () => timedRefusal(direct, 'throttled')));
      for (const r of burst) expect(r.code).toBe('08001');
      const calls = stack.emulator.calls.GetClusterCredentials - before;
      expect(calls).toBeLessThanOrEqual(10);
      survived.push(`API throttling (23 clients refused in time, ${stack.emulator.calls.GetClusterCredentials} API calls in all)`);
    } finally {
      // The throttling ends: the remaining injected answers are dropped.
      stack.emulator.resetCounters();
    }
    await logsIn(direct, 'throttled');
  });

  it('stops answering (requests hang): 08001 "took longer" in time; once it answers again, the next connection works', async () => {
    stack.emulator.setDelay(600_000);
    try {
      const r = await timedRefusal(direct, 'api-hangs');
      expect(r).toMatchObject({ code: '08001' });
      expect(r.message).toMatch(new RegExp(`took longer than ${STARTUP_TIMEOUT_MS} ms`));
      expect(r.hint).toBeTruthy();
      expect(r.ms).toBeLessThan(STARTUP_TIMEOUT_MS + SLACK_MS);
    } finally {
      stack.emulator.setDelay(0);
    }
    // The API answers promptly again, but the request that hung is still open: the proxy must not wait on it.
    await logsIn(direct, 'api-hangs');
    survived.push('API hanging');
  });
});
