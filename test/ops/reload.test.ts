/**
 * Reload of the real executable: SIGHUP and the `reload` command re-read the config file while 200 sessions are
 * open. New sessions of a changed listener use its new target at once, the 200 keep theirs and none is dropped; a
 * removed listener stops accepting while its open session finishes; an added one accepts; an identity whose settings
 * did not change keeps its cached credential. A file with problems changes nothing: every problem is reported with
 * its line (log, `reload`'s output and exit status, GET /reload) and the old configuration keeps serving.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgClient, withClient } from '../support/clients.js';
import { freePort } from '../support/pg-server.js';
import { startStack, TEST_CLUSTER, TEST_REGION } from '../support/stack.js';
import type { Stack } from '../support/stack.js';
import { runCli } from './cli-process.js';
import type { CliProcess } from './cli-process.js';

let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rap-reload-'));
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await stack?.stop();
});

interface ListenerSpec { readonly name: string; readonly port: number; readonly dbUser: string }

function configText(http: number, listeners: readonly ListenerSpec[], extra = ''): string {
  return [
    'logFormat: json',
    `httpListen: 127.0.0.1:${http}`,
    'shutdownGrace: 20',
    extra,
    // 200 open sessions and the new ones beside them: more than the default upstream budget (200).
    'maxUpstreamConnections: 400',
    'listeners:',
    ...listeners.flatMap((l) => [
      `  - name: ${l.name}`,
      `    listen: 127.0.0.1:${l.port}`,
      '    target:',
      `      upstream: localhost:${stack.bed.port}`,
      `      clusterId: ${TEST_CLUSTER}`,
      `      region: ${TEST_REGION}`,
      `      awsEndpointUrl: ${stack.emulator.url}`,
      `      caFile: ${stack.bed.caCertPath}`,
      '      autoCreate: true',
      `      dbUser: ${l.dbUser}`,
    ]),
    '',
  ].join('\n');
}

async function currentUser(c: pg.Client): Promise<string> {
  return String((await c.query('select current_user as u')).rows[0]?.u);
}

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Resolves after the n-th "reloaded"/"reload refused" log line. */
async function reloads(p: CliProcess, n: number): Promise<void> {
  await p.waitForStderr(new RegExp(`("msg":"(reloaded the configuration|reload refused)[^\\n]*\\n[^]*){${n}}`), 30_000);
}

const credentialCalls = (): number => stack.emulator.calls.GetClusterCredentials;

describe('reload', () => {
  it('changes the target for new sessions during 200 open ones, drops none, and a bad file keeps the old config', async () => {
    const [http, a, b, c] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const file = path.join(dir, 'proxy.yaml');
    writeFileSync(file, configText(http, [{ name: 'a', port: a, dbUser: 'before_user' }, { name: 'b', port: b, dbUser: 'b_user' }]));
    const p = runCli(['--config', file]);
    await p.waitForStderr(/"msg":"operations endpoint/);
    const wait = runCli(['wait', '--config', file, '--timeout', '20']);
    expect(await wait.exit, wait.stderr()).toBe(0);

    // 200 sessions on listener a, and one on listener b, all logged in before the reload.
    const clients: pg.Client[] = [];
    for (let i = 0; i < 10; i++) {
      const batch = Array.from({ length: 20 }, () => pgClient(a, `app${i}`));
      await Promise.all(batch.map((x) => x.connect()));
      clients.push(...batch);
    }
    const errors: Error[] = [];
    for (const x of clients) x.on('error', (e) => errors.push(e));
    expect(new Set(await Promise.all(clients.map(currentUser)))).toEqual(new Set(['IAMA:before_user']));
    const onB = pgClient(b, 'lingering');
    await onB.connect();
    expect(await currentUser(onB)).toBe('IAMA:b_user');

    // a changes its user, b goes, c comes with a's old identity (cached: no API call for it).
    writeFileSync(file, configText(http, [{ name: 'a', port: a, dbUser: 'after_user' }, { name: 'c', port: c, dbUser: 'before_user' }]));
    // Each of the 200 is running a statement while the reload happens.
    const running = clients.map((x) => x.query('select pg_sleep(0.5), current_user as u'));
    p.child.kill('SIGHUP');
    await reloads(p, 1);
    expect(new Set((await Promise.all(running)).map((r) => String(r.rows[0]?.u)))).toEqual(new Set(['IAMA:before_user']));
    expect(p.logs('reloaded the configuration')[0]).toMatchObject({ by: 'SIGHUP', added: ['c'], removed: ['b'], changed: ['a'] });
    const callsBefore = credentialCalls();
    expect(await withClient(c, 'newcomer', currentUser)).toBe('IAMA:before_user');
    expect(credentialCalls()).toBe(callsBefore);
    expect(await withClient(a, 'newcomer', currentUser)).toBe('IAMA:after_user');
    expect(await connectOutcome(b)).toBe('ECONNREFUSED');
    // The open sessions go on as they started: a's 200 and b's one.
    expect(new Set(await Promise.all(clients.map(currentUser)))).toEqual(new Set(['IAMA:before_user']));
    expect(await currentUser(onB)).toBe('IAMA:b_user');
    await onB.end();

    // A file with problems: nothing changes, each problem is reported with its line.
    writeFileSync(file, configText(http, [{ name: 'a', port: a, dbUser: 'third_user' }], 'maxConnections: 0\nstartupTimeout: -1'));
    const refused = runCli(['reload', '--config', file]);
    expect(await refused.exit).toBe(1);
    expect(refused.stderr()).toMatch(/refused; the proxy keeps its running configuration/);
    expect(refused.stderr()).toMatch(/proxy\.yaml:4: maxConnections must be at least 1/);
    expect(refused.stderr()).toMatch(/proxy\.yaml:5: startupTimeout/);
    await reloads(p, 2);
    expect(p.logs(/^reload refused/).map((e) => String(e.msg))).toEqual(expect.arrayContaining([
      expect.stringMatching(/proxy\.yaml:4: maxConnections/)]));
    const last = await (await fetch(`http://127.0.0.1:${http}/reload`)).json() as { ok: boolean; problems: string[] };
    expect(last.ok).toBe(false);
    expect(last.problems).toHaveLength(2);
    expect(await withClient(a, 'newcomer', currentUser)).toBe('IAMA:after_user');
    expect(await withClient(c, 'newcomer', currentUser)).toBe('IAMA:before_user');

    // A listener that cannot bind (its port is taken) refuses the whole reload: a keeps its user.
    const squatter = net.createServer();
    const taken = await new Promise<number>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve((squatter.address() as net.AddressInfo).port)));
    writeFileSync(file, configText(http, [{ name: 'a', port: a, dbUser: 'third_user' }, { name: 'c', port: c, dbUser: 'before_user' },
      { name: 'd', port: taken, dbUser: 'd_user' }]));
    const unbindable = runCli(['reload', '--config', file]);
    expect(await unbindable.exit).toBe(1);
    expect(unbindable.stderr()).toMatch(/listener d: cannot listen: .*EADDRINUSE/);
    await new Promise((resolve) => squatter.close(resolve));
    expect(await withClient(a, 'newcomer', currentUser)).toBe('IAMA:after_user');

    // The reload command applies a good file and says what changed.
    writeFileSync(file, configText(http, [{ name: 'a', port: a, dbUser: 'third_user' }, { name: 'c', port: c, dbUser: 'before_user' }]));
    const applied = runCli(['reload', '--http-listen', `127.0.0.1:${http}`]);
    expect(await applied.exit, applied.stderr()).toBe(0);
    expect(applied.stdout()).toMatch(/^reloaded: changed: a$/m);
    expect(await withClient(a, 'newcomer', currentUser)).toBe('IAMA:third_user');

    expect(new Set(await Promise.all(clients.map(currentUser)))).toEqual(new Set(['IAMA:before_user']));
    expect(errors).toEqual([]);
    await Promise.all(clients.map((x) => x.end()));
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(143);
    expect(p.logs('session ended').filter((e) => e.closedBy !== 'client' && e.closedBy !== 'upstream')).toEqual([]);
  }, 120_000);

  it('reload exits 2 when there is no endpoint to ask', async () => {
    const env = { ...process.env };
    delete env.REDSHIFT_AUTH_PROXY_HTTP_LISTEN;
    const r = runCli(['reload'], env);
    expect(await r.exit).toBe(2);
    expect(r.stderr()).toMatch(/reload needs .*--http-listen.*SIGHUP/);
  });
});
