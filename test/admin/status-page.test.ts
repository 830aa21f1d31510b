/**
 * The status page in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core): nobody signed
 * in, the "Sign in" button starts the one sign-in (the test browser completes it), and the page then names the
 * person. Each refusal is tested on its own: a Host that is not this server (DNS rebinding), a POST without the
 * token, with another Origin, from another site's page in the real browser. A screenshot is kept in
 * .tmp/artifacts/status-page.png (git-ignored).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { startOpsServer } from '../../src/admin/http-server.js';
import type { OpsServer } from '../../src/admin/http-server.js';
import { Readiness } from '../../src/admin/readiness.js';
import { StatusPage } from '../../src/admin/status-page.js';
import { StatusReporter } from '../../src/admin/status-report.js';
import { configFromFlags } from '../../src/config/from-flags.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { ssoSessionProfile, useAwsEnv } from '../support/aws-env.js';
import type { AwsEnv } from '../support/aws-env.js';
import { withClient } from '../support/clients.js';
import { startStack, targetFor } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const START_URL = 'https://corp.awsapps.com/start';
const ARTIFACTS = path.join(import.meta.dirname, '../../.tmp/artifacts');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

let stack: Stack;
let env: AwsEnv;
let proxy: RunningProxy;
let ops: OpsServer;
let browser: Browser;
let browserLog: string;
let base: string;

beforeAll(async () => {
  stack = await startStack({ identityCenter: { users: [{ userName: 'alice@example.com', accountId: '123456789012', roleName: 'Analyst' }] } });
  env = useAwsEnv({ config: ssoSessionProfile('analytics', 'corp', START_URL),
    vars: { AWS_ENDPOINT_URL_SSO: stack.emulator.url, AWS_ENDPOINT_URL_SSO_OIDC: stack.emulator.url } });
  browserLog = path.join(mkdtempSync(path.join(tmpdir(), 'rap-browser-')), 'opened.log');
  writeFileSync(browserLog, '');
  Object.assign(process.env, { BROWSER: `${process.execPath} ${path.join(import.meta.dirname, '../support/test-browser.mjs')}`,
    TEST_BROWSER_LOG: browserLog });
  proxy = await stack.startProxy({ profile: 'analytics', withIam: true, autoCreate: false });
  const config = { ...configFromFlags({}), listeners: [{ name: 'analytics', host: '127.0.0.1', port: 0,
    target: targetFor(stack.bed, stack.emulator, { profile: 'analytics', withIam: true, autoCreate: false }) }] };
  const page = new StatusPage(new StatusReporter(proxy, config), proxy.signIn.provider, stack.log, '127.0.0.1');
  ops = await startOpsServer({ host: '127.0.0.1', port: 0 }, proxy.metrics, new Readiness(proxy), stack.log, page);
  base = `http://127.0.0.1:${ops.address.port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});

afterEach(() => undefined);

afterAll(async () => {
  await browser?.close();
  await ops?.close();
  env?.restore();
  delete process.env.BROWSER;
  delete process.env.TEST_BROWSER_LOG;
  await stack?.stop();
});

/** A raw request with exactly these headers (fetch would not let a test choose Host). */
function raw(method: string, pathname: string, headers: Record<string, string>, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ops.address.port, method, path: pathname,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const opened = (): string[] => readFileSync(browserLog, 'utf8').split('\n').filter((l) => l !== '');

describe('refusals', () => {
  it('a Host that is not this server (DNS rebinding) is refused for /, /status and POST /sign-in', async () => {
    for (const [method, p] of [['GET', '/'], ['GET', '/status'], ['POST', '/sign-in']] as const) {
      const res = await raw(method, p, { host: `attacker.example:${ops.address.port}` });
      expect(res.status, `${method} ${p}`).toBe(403);
      expect(res.text).toContain('is not this server');
    }
    expect((await raw('GET', '/status', { host: `localhost:${ops.address.port}` })).status).toBe(200);
  });

  it('POST /sign-in without the token, with a wrong token, without or with a foreign Origin: 403, no sign-in', async () => {
    const host = `127.0.0.1:${ops.address.port}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const page = (await raw('GET', '/', { host })).text;
    const token = /name="token" value="([^"]+)"/.exec(page)?.[1] ?? '';
    expect(token).toMatch(/^[\w-]{32}$/);
    expect((await raw('POST', '/sign-in', { host, ...form, origin: `http://${host}` }, 'signIn=0')).status).toBe(403);
    expect((await raw('POST', '/sign-in', { host, ...form, origin: `http://${host}` }, 'signIn=0&token=wrong')).status).toBe(403);
    expect((await raw('POST', '/sign-in', { host, ...form }, `signIn=0&token=${token}`)).status).toBe(403);
    expect((await raw('POST', '/sign-in', { host, ...form, origin: 'http://attacker.example' }, `signIn=0&token=${token}`)).status).toBe(403);
    expect(opened()).toEqual([]);
  });

  it('another site\'s page posting to /sign-in from the real browser is refused by its Origin', async () => {
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form method="post" action="${base}/sign-in"><input name="signIn" value="0"><button id="go">go</button></form>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const [response] = await Promise.all([page.waitForResponse(`${base}/sign-in`), page.click('#go')]);
      expect(response.status()).toBe(403);
      await page.close();
    } finally {
      evil.close();
    }
    expect(opened()).toEqual([]);
  });
});

describe('in the browser', () => {
  it('nobody signed in → "Sign in" → one sign-in → the page names the person; screenshot kept', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`, { timeout: 10_000 });
    expect(await page.textContent('#sign-ins', { timeout: 10_000 })).toContain('not signed in');
    expect(await page.textContent('#listeners')).toContain('cluster test-cluster');
    const [posted] = await Promise.all([page.waitForResponse(`${base}/sign-in`, { timeout: 10_000 }), page.click('#sign-ins button', { timeout: 10_000 })]);
    expect(posted.status()).toBe(303);
    await expect.poll(async () => {
      await page.reload({ timeout: 5_000 });
      return page.textContent('#sign-ins');
    }, { timeout: 20_000 }).toContain('signed in as alice@example.com');
    expect(opened()).toHaveLength(1);
    // A tool connecting now needs no sign-in; its credential shows up with its expiry.
    await withClient(proxy.addresses[0]?.port as number, 'tool', (c) => c.query('select 1'));
    await page.reload();
    expect(await page.textContent('#credentials')).toMatch(/IAMR?|test-cluster/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page.png'), fullPage: true });
    const html = await page.content();
    const json = (await raw('GET', '/status', { host: `127.0.0.1:${ops.address.port}` })).text;
    // No token of any kind on the page or in the JSON: the cached token file's secrets are all absent.
    const cacheDir = path.join(env.home, '.aws', 'sso', 'cache');
    const { readdirSync } = await import('node:fs');
    for (const f of readdirSync(cacheDir)) {
      const cached = JSON.parse(readFileSync(path.join(cacheDir, f), 'utf8')) as Record<string, string>;
      for (const key of ['accessToken', 'refreshToken', 'clientSecret']) {
        if (cached[key]) {
          expect(html).not.toContain(cached[key]);
          expect(json).not.toContain(cached[key]);
        }
      }
    }
    expect(JSON.parse(json)).toMatchObject({ openSessions: 0, signIns: [{ signedIn: true, who: 'alice@example.com', renewable: true }] });
    await page.close();
  });
});
