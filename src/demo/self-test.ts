/**
 * `--self-test`: drives the running demo as a tool would, across one credential expiry, and prints each step as
 * PASS or FAIL with what it saw. Steps run in order and stop at the first failure (later steps build on earlier
 * ones). The checks that look behind the proxy (TLS version, the expired password) ask the stand-in Redshift and
 * the control plane directly — never through the code path they are checking.
 */
import { silentLogger } from '../ops/logger.js';
import { startupMessage } from '../protocol/frontend-messages.js';
import { startProxy } from '../proxy/proxy.js';
import { connectTls } from '../upstream/connect-tls.js';
import { login, UpstreamLoginError } from '../upstream/login.js';
import { DEMO_LOGIN_NAME } from './control-plane.js';
import type { DemoStack } from './demo-stack.js';
import { DEMO_DATABASE } from './embedded-database.js';
import type { Print } from './story-log.js';
import { expect, stepPrinter, StepFailed } from './self-test-steps.js';
import { ServerError, WireClient } from './wire-client.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSelfTest(stack: DemoStack, print: Print): Promise<boolean> {
  const clients: WireClient[] = [];
  const connect = async (): Promise<WireClient> => {
    const c = await WireClient.connect(stack.port, 'analyst', DEMO_DATABASE);
    clients.push(c);
    return c;
  };
  const step = stepPrinter(print);

  try {
    let early: WireClient | undefined;
    await step('a tool connects to the proxy with no password and runs as the DbUser AWS returned', async () => {
      early = await connect();
      const user = await early.scalar('select current_user');
      expect(user === DEMO_LOGIN_NAME, `current_user is ${String(user)}, expected ${DEMO_LOGIN_NAME}`);
      return `current_user = ${String(user)}`;
    });

    await step('the proxy logged in to the stand-in Redshift over TLS with an md5 password', async () => {
      const login = stack.events.find((e) => e.kind === 'login');
      expect(login?.kind === 'login' && /^TLSv1\.[23]$/.test(login.tls), `no TLS login was recorded (${JSON.stringify(login)})`);
      return login?.kind === 'login' ? `${login.tls}, as ${login.user}` : '';
    });

    await step('the stand-in Redshift refuses a plaintext login, as Redshift does', async () => {
      try {
        (await WireClient.connect(stack.redshift.port, DEMO_LOGIN_NAME, DEMO_DATABASE, stack.redshift.host)).close();
      } catch (err) {
        expect(err instanceof ServerError && err.fields.code === '28000', `unexpected answer: ${String(err)}`);
        return `${(err as ServerError).fields.code} ${(err as ServerError).fields.message}`;
      }
      throw new StepFailed('a plaintext login was accepted');
    });

    await step('queries return the demo data', async () => {
      const c = early as WireClient;
      const totals = await c.query('select count(*), sum(amount) from sales');
      expect(totals.rows[0]?.[0] === '365', `sales has ${String(totals.rows[0]?.[0])} rows, expected 365`);
      const top = await c.query('select region, sum(revenue) from monthly_revenue group by region order by 2 desc limit 1');
      return `365 sales totalling ${String(totals.rows[0]?.[1])}; top region ${String(top.rows[0]?.[0])}`;
    });

    const first = stack.control.issued[0];
    await step('wait until the first temporary password has expired', async () => {
      expect(first !== undefined, 'the control plane issued no credential');
      const wait = Math.max(0, (first?.validUntil.getTime() ?? 0) - Date.now()) + 250;
      await sleep(wait);
      return `waited ${(wait / 1000).toFixed(1)} s; it expired at ${first?.validUntil.toISOString().slice(11, 19)}`;
    });

    await step('the expired password is refused by the stand-in Redshift (28P01), so expiry is real', async () => {
      const socket = await connectTls({ host: stack.redshift.host, port: stack.redshift.port, extraCaPem: [stack.caPem],
        connectTimeoutMs: 5_000 });
      try {
        await login(socket, startupMessage(new Map([['user', DEMO_LOGIN_NAME], ['database', DEMO_DATABASE]])),
          { user: DEMO_LOGIN_NAME, password: first?.password ?? '' });
      } catch (err) {
        expect(err instanceof UpstreamLoginError && err.fields.code === '28P01', `unexpected answer: ${String(err)}`);
        const refused = stack.events.filter((e) => e.kind === 'refused').at(-1);
        return `28P01; the server's reason: ${refused?.kind === 'refused' ? refused.reason : '?'}`;
      } finally {
        socket.destroy();
      }
      throw new StepFailed('the expired password was accepted');
    });

    await step('a new connection after expiry works: the proxy fetched a new password', async () => {
      const before = stack.control.issued.length;
      const late = await connect();
      const user = await late.scalar('select current_user');
      expect(user === DEMO_LOGIN_NAME, `current_user is ${String(user)}`);
      expect(stack.control.issued.length > before, 'no new credential was issued');
      return `current_user = ${String(user)}; ${stack.control.issued.length} passwords issued so far`;
    });

    await step('the session opened before expiry keeps working', async () => {
      const n = await (early as WireClient).scalar('select count(*) from sales where amount > 100');
      return `still answering: ${String(n)} sales over 100`;
    });

    await step('two sessions query at once, each in its own transaction', async () => {
      const [a, b] = [early as WireClient, clients[1] as WireClient];
      const txn = async (c: WireClient, region: number): Promise<string | null> => {
        await c.query('begin');
        const n = await c.scalar(`select count(*) from sales where region_id = ${region}`);
        await c.query('commit');
        return n;
      };
      // One client runs one query at a time; the two clients run side by side.
      const [fromA, fromB] = await Promise.all([
        (async () => [await txn(a, 1), await txn(a, 3)])(),
        (async () => [await txn(b, 2), await txn(b, 4)])(),
      ]);
      const counts = [...fromA, ...fromB];
      const total = counts.reduce((sum, n) => sum + Number(n), 0);
      expect(total === 365, `region counts add up to ${total}, expected 365`);
      return `region counts ${counts.join(' + ')} = ${total}`;
    });

    await step('without the demo CA, the proxy refuses the stand-in\'s certificate (08001)', async () => {
      // The same configuration minus --ca-file: the certificate's issuer is then unknown, and verification is on.
      const listener = stack.config.listeners[0];
      if (!listener) throw new StepFailed('the demo has no listener');
      const untrusting = await startProxy({ ...stack.config, listeners: [{ ...listener, port: 0,
        target: { ...listener.target, caFile: undefined } }] }, silentLogger());
      try {
        const c = await WireClient.connect(untrusting.addresses[0]?.port ?? 0, 'analyst', DEMO_DATABASE);
        c.close();
      } catch (err) {
        expect(err instanceof ServerError && err.fields.code === '08001', `unexpected answer: ${String(err)}`);
        return `08001 ${(err as ServerError).fields.message}`;
      } finally {
        await untrusting.close();
      }
      throw new StepFailed('the proxy logged in to a server whose certificate it cannot verify');
    });
    return true;
  } catch {
    return false;
  } finally {
    for (const c of clients) c.close();
  }
}
