/**
 * /healthz, /readyz and /metrics scraped for real over HTTP from proxies on the test stack, each with its own
 * registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpsServer } from '../../src/admin/http-server.js';
import type { OpsServer } from '../../src/admin/http-server.js';
import { Readiness } from '../../src/admin/readiness.js';
import type { ReadinessReport } from '../../src/admin/readiness.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { withClient } from '../support/clients.js';
import { totalApiCalls } from '../support/refusals.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
const servers: OpsServer[] = [];

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await stack?.stop();
});

async function serve(proxy: RunningProxy, ttlMs = 5_000): Promise<string> {
  const s = await startOpsServer({ host: '127.0.0.1', port: 0 }, proxy.metrics, new Readiness(proxy, ttlMs), stack.log);
  servers.push(s);
  return `http://127.0.0.1:${s.address.port}`;
}

/** The value of one sample line of the Prometheus text, e.g. metric('x_total{listener="a"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operations endpoint', () => {
  it('answers /healthz and 404 for anything else', async () => {
    const base = await serve(stack.proxy);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('is ready when the listener is bound and credentials are obtainable, probing AWS at most once per ttl', async () => {
    const p = await stack.startProxy({ dbUser: 'ready_user' });
    const base = await serve(p, 60_000);
    const before = totalApiCalls(stack.emulator);
    const res = await fetch(`${base}/readyz`);
    const body = await res.json() as ReadinessReport;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.targets).toEqual([expect.objectContaining({ ok: true, checked: 'credentials',
      detail: expect.stringMatching(/GetClusterCredentials for IAMA:ready_user/) as unknown })]);
    for (let i = 0; i < 5; i++) expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(totalApiCalls(stack.emulator) - before).toBe(1);
  });

  it('probes the AWS identity when the database user is the client\'s', async () => {
    const body = await (await fetch(`${await serve(stack.proxy)}/readyz`)).json() as ReadinessReport;
    expect(body.ready).toBe(true);
    expect(body.targets[0]).toMatchObject({ checked: 'aws-identity', detail: expect.stringMatching(/AKIATEST…/) as unknown });
  });

  it('answers 503 with the reason when credentials cannot be had, and when the listener is closed', async () => {
    const p = await stack.startProxy({ clusterId: 'no-such-cluster', dbUser: 'x' });
    const base = await serve(p, 0);
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    const body = await res.json() as ReadinessReport;
    expect(body.ready).toBe(false);
    expect(body.targets[0]?.detail).toMatch(/no-such-cluster/);
    const ok = await stack.startProxy({ dbUser: 'closing_user' });
    const okBase = await serve(ok, 0);
    expect((await fetch(`${okBase}/readyz`)).status).toBe(200);
    await ok.close();
    const closed = await (await fetch(`${okBase}/readyz`)).json() as ReadinessReport;
    expect(closed.listeners).toEqual([expect.objectContaining({ bound: false })]);
  });

  it('exports connections, bytes, credential calls, connect latency and credential expiry per proxy', async () => {
    const p = await stack.startProxy({});
    const other = await stack.startProxy({});
    const base = await serve(p);
    const label = p.listeners[0]?.label as string;
    await withClient(p.addresses[0]?.port as number, 'metrics_user', async (c) => {
      await c.query('select repeat(\'x\', 10000)');
      const during = await (await fetch(`${base}/metrics`)).text();
      expect(sample(during, `redshift_auth_proxy_connections_active{listener="${label}"}`)).toBe(1);
    });
    await withClient(p.addresses[0]?.port as number, 'metrics_user', async (c) => c.query('select 1'));
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sample(text, `redshift_auth_proxy_connections_total{listener="${label}"}`)).toBe(2);
    expect(sample(text, `redshift_auth_proxy_connections_active{listener="${label}"}`)).toBe(0);
    expect(sample(text, `redshift_auth_proxy_session_bytes_total{listener="${label}",direction="to_client"}`)).toBeGreaterThan(10_000);
    expect(sample(text, `redshift_auth_proxy_session_bytes_total{listener="${label}",direction="to_upstream"}`)).toBeGreaterThan(0);
    expect(sample(text, 'redshift_auth_proxy_credential_fetches_total{result="ok",background="false"}')).toBe(1);
    expect(sample(text, 'redshift_auth_proxy_credential_fetch_duration_seconds_count{result="ok"}')).toBe(1);
    expect(sample(text, 'redshift_auth_proxy_upstream_connect_duration_seconds_count')).toBe(2);
    const expiry = /^redshift_auth_proxy_credential_expiry_seconds\{identity="([^"]+)"\} (\S+)$/m.exec(text);
    expect(expiry?.[1]).toMatch(/^GetClusterCredentials\/.*test-cluster\/metrics_user\/dev/);
    expect(Number(expiry?.[2])).toBeGreaterThan(60);
    expect(text).toMatch(/^redshift_auth_proxy_process_resident_memory_bytes /m);
    // The other proxy's registry is its own.
    expect(await other.metrics.text()).not.toMatch(/metrics_user/);
  });

  it('counts refused connections by SQLSTATE', async () => {
    const p = await stack.startProxy({ allowedUsers: ['someone_else'] }, { maxConnections: 1 });
    const port = p.addresses[0]?.port as number;
    await expect(withClient(port, 'intruder', async (c) => c.query('select 1'))).rejects.toMatchObject({ code: '28000' });
    await withClient(port, 'someone_else', async () => {
      await expect(withClient(port, 'someone_else', async (c) => c.query('select 1'))).rejects.toMatchObject({ code: '53300' });
    });
    const text = await p.metrics.text();
    expect(sample(text, `redshift_auth_proxy_connections_refused_total{listener="${p.listeners[0]?.label ?? ''}",sqlstate="53300"}`)).toBe(1);
  });
});
