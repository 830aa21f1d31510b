/**
 * No secret is ever logged. A stack run goes through every path that handles an issued password — logins,
 * refusals, a forced re-issue, readiness probes, metrics, `check`, and `creds` (which prints the password on
 * purpose, to its standard output only) — then every captured log line, metric and report is searched for every
 * password the emulator issued. The audit line of each session is checked for its fields on the way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/commands/check.js';
import { runCreds } from '../../src/commands/creds.js';
import type { Config } from '../../src/config/config.js';
import { Readiness } from '../../src/admin/readiness.js';
import { pgClient, withClient } from '../support/clients.js';
import { startStack, targetFor } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('secrets stay out of logs', () => {
  it('never logs an issued password on any path, and writes a complete audit line per session', async () => {
    const outputs: string[] = [];
    const port = stack.port;
    await withClient(port, 'audit_user', async (c) => c.query('select 1'));
    const named = pgClient(port, 'audit_app', 'dev', { application_name: 'audit-tool' });
    await named.connect();
    await named.query('select repeat(\'y\', 1000)');
    await named.end();
    await expect(withClient(port, 'audit_user', async () => undefined, 'no_such_db')).rejects.toMatchObject({ code: '3D000' });
    // A credential the database no longer accepts is dropped and re-issued.
    await stack.bed.superuserQuery('alter user "IAMA:audit_user" password \'changed-behind-our-back\'');
    await withClient(port, 'audit_user', async (c) => c.query('select 1'));

    const fixed = await stack.startProxy({ dbUser: 'audit_fixed' });
    outputs.push(JSON.stringify(await new Readiness(fixed, 0).report()));
    outputs.push(await fixed.metrics.text(), await stack.proxy.metrics.text());

    const config: Config = {
      listeners: [{ host: '127.0.0.1', port: 0, target: targetFor(stack.bed, stack.emulator, { dbUser: 'audit_cli' }) }],
      startupTimeoutMs: 10_000, connectTimeoutMs: 5_000, maxStartupPacket: 10_000, logLevel: 'debug',
    };
    expect(await runCheck(config, {}, (l) => outputs.push(l))).toBe(0);
    let printed = '';
    const errors: string[] = [];
    expect(await runCreds(config, { format: 'json' }, (t) => {
      printed += t;
    }, (t) => errors.push(t))).toBe(0);
    const issued = JSON.parse(printed) as { password: string };
    expect(stack.issuedPasswords).toContain(issued.password);
    outputs.push(...errors);

    const everything = [stack.logs.text, ...outputs].join('\n');
    expect(stack.issuedPasswords.length).toBeGreaterThanOrEqual(4);
    for (const pw of stack.issuedPasswords) expect(everything).not.toContain(pw);

    const audits = stack.logs.entries().filter((e) => e.msg === 'session ended');
    expect(audits.length).toBeGreaterThanOrEqual(3);
    for (const a of audits) {
      expect(Object.keys(a)).toEqual(expect.arrayContaining(['client', 'user', 'dbUser', 'database', 'durationMs',
        'bytesToClient', 'bytesToUpstream', 'closedBy', 'reason']));
      expect(a.client).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    expect(audits).toContainEqual(expect.objectContaining({ user: 'audit_app', dbUser: 'IAMA:audit_app', database: 'dev',
      application_name: 'audit-tool', closedBy: expect.stringMatching(/^(client|upstream)$/) as unknown }));
    expect(audits.find((a) => a.user === 'audit_app')?.bytesToClient).toBeGreaterThan(1000);
  });
});
