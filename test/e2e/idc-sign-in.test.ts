/**
 * An IdC listener with no --idc-token-command: its token comes from the sign-in (src/signin) — the issuer URL and
 * region of --idc-issuer-url/--idc-region, scope redshift:connect, the AWS CLI's token cache — and ten tools
 * connecting at once open exactly one browser tab. The browser is the test browser (BROWSER), approving on the
 * emulator's Identity Center page.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { pgClient, withClient } from '../support/clients.js';
import { IDC_USER, ISSUER_URL, startIdcStack } from '../support/idc-stack.js';
import type { IdcStack } from '../support/idc-stack.js';
import { Readiness } from '../../src/admin/readiness.js';

let stack: IdcStack;
let home: string;
let tabs: string;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'rap-idc-home-'));
  tabs = path.join(home, 'tabs.log');
  writeFileSync(tabs, '');
  process.env.HOME = home;
  process.env.BROWSER = `${process.execPath} ${path.join(import.meta.dirname, '../support/test-browser.mjs')}`;
  process.env.TEST_BROWSER_LOG = tabs;
  stack = await startIdcStack({ autoApprove: false });
});

afterAll(async () => {
  await stack?.stop();
});

describe('an IdC listener signing in on demand', () => {
  it('a readiness probe never opens a sign-in', async () => {
    const proxy = await stack.startProxy({ idcTokenCommand: undefined, idcIssuerUrl: ISSUER_URL, idcRegion: 'us-east-1',
      awsEndpointUrl: stack.emulator.url });
    const report = await new Readiness(proxy).report();
    expect(report.targets).toEqual([{ listener: expect.any(String), ok: true, checked: 'credentials',
      detail: 'IAM Identity Center sign-in: nobody signed in yet; the first client\'s connection starts the sign-in' }]);
    expect(readFileSync(tabs, 'utf8')).toBe('');
  });

  it('ten tools at once: one sign-in, one tab, every session as the person; later tools reuse it', async () => {
    const proxy = await stack.startProxy({ idcTokenCommand: undefined, idcIssuerUrl: ISSUER_URL, idcRegion: 'us-east-1',
      awsEndpointUrl: stack.emulator.url, idcDisplayName: 'Analytics BI tools' });
    const port = proxy.addresses[0]?.port as number;
    const approvals = stack.emulator.identityCenter.approvals;
    const whoami = (i: number): Promise<string> => withClient(port, `tool${i}`, async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    const users = await Promise.all(Array.from({ length: 10 }, (_, i) => whoami(i)));
    expect(new Set(users)).toEqual(new Set([`AWSIDC:${IDC_USER}`]));
    expect(readFileSync(tabs, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(stack.emulator.identityCenter.approvals - approvals).toBe(1);
    // The consent page's application name is --idc-display-name (RegisterClient clientName), for redshift:connect.
    const registered = stack.emulator.callLog.filter((c) => c.action === 'RegisterClient' && c.params.clientName === 'Analytics BI tools');
    expect(registered).toHaveLength(1);
    expect(await whoami(10)).toBe(`AWSIDC:${IDC_USER}`);
    expect(readFileSync(tabs, 'utf8').trim().split('\n')).toHaveLength(1);
    // The sign-in is the AWS CLI's: one token file in ~/.aws/sso/cache, mode 0600; the token never logged.
    const cacheDir = path.join(home, '.aws', 'sso', 'cache');
    const files = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    const tokenFile = files.map((f) => path.join(cacheDir, f)).find((f) => (JSON.parse(readFileSync(f, 'utf8')) as { startUrl?: string }).startUrl === ISSUER_URL);
    expect(tokenFile).toBeDefined();
    expect(statSync(tokenFile as string).mode & 0o777).toBe(0o600);
    const token = (JSON.parse(readFileSync(tokenFile as string, 'utf8')) as { accessToken: string }).accessToken;
    expect(stack.emulator.identityCenter.validateToken(token, 'redshift:connect')?.userName).toBe(IDC_USER);
    expect(stack.logs.text).not.toContain(token);
  });

  it('a sign-in refused in the browser: FATAL 28000 that says so, for the tool', async () => {
    const proxy = await stack.startProxy({ idcTokenCommand: undefined, idcIssuerUrl: `${ISSUER_URL}-other`, idcRegion: 'us-east-1',
      awsEndpointUrl: stack.emulator.url });
    process.env.TEST_BROWSER_DECISION = 'deny';
    try {
      const c = pgClient(proxy.addresses[0]?.port as number, 'analyst');
      const err = await c.connect().then(() => undefined, (e: unknown) => e as pg.DatabaseError);
      await c.end().catch(() => undefined);
      expect([err?.code, err?.message, err?.hint]).toEqual(['28000', 'the IAM Identity Center sign-in was refused in the browser',
        'Connect again to start a new sign-in.']);
    } finally {
      delete process.env.TEST_BROWSER_DECISION;
    }
  });

  it('a refused token is replaced by a refresh, with no new tab', async () => {
    const proxy = await stack.startProxy({ idcTokenCommand: undefined, idcIssuerUrl: ISSUER_URL, idcRegion: 'us-east-1',
      awsEndpointUrl: stack.emulator.url });
    const port = proxy.addresses[0]?.port as number;
    await withClient(port, 'analyst', (c) => c.query('select 1'));
    const tabsBefore = readFileSync(tabs, 'utf8');
    stack.emulator.identityCenter.expireAccessTokens();
    const user = await withClient(port, 'analyst', async (c) => (await c.query('select current_user as u')).rows[0].u as string);
    expect(user).toBe(`AWSIDC:${IDC_USER}`);
    expect(readFileSync(tabs, 'utf8')).toBe(tabsBefore);
  });

  it('a sign-in nobody finishes: after --sign-in-wait the tool is told where to sign in', async () => {
    const proxy = await stack.startProxy({ idcTokenCommand: undefined, idcIssuerUrl: `${ISSUER_URL}-unfinished`, idcRegion: 'us-east-1',
      awsEndpointUrl: stack.emulator.url }, { signInWaitMs: 1_500 });
    process.env.TEST_BROWSER_DECISION = 'ignore';
    try {
      const c = pgClient(proxy.addresses[0]?.port as number, 'analyst');
      const started = Date.now();
      const err = await c.connect().then(() => undefined, (e: unknown) => e as pg.DatabaseError);
      await c.end().catch(() => undefined);
      expect(err?.code).toBe('28000');
      expect(err?.message).toMatch(/^sign in to IAM Identity Center to connect: open http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
      expect(err?.hint).toBe('Finish the sign-in, then connect again: the proxy uses the new session without a restart.');
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      delete process.env.TEST_BROWSER_DECISION;
    }
  });
});
