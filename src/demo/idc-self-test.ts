/**
 * `--idc --self-test`: drives the IAM Identity Center demo as a tool would and prints each step as PASS or FAIL:
 * a tool with no password runs as AWSIDC:<person>; the proxy logged in with the token (code 14) over TLS; no
 * GetClusterCredentials call was made; an expired token is refused with 28000 and a hint; a new token is used at
 * once. The checks behind the proxy ask the stand-in Redshift and the emulator directly.
 */
import { DEMO_IDC_LOGIN } from './control-plane.js';
import type { DemoStack } from './demo-stack.js';
import { DEMO_DATABASE } from './embedded-database.js';
import type { Print } from './story-log.js';
import { expect, stepPrinter, StepFailed } from './self-test-steps.js';
import { ServerError, WireClient } from './wire-client.js';

export async function runIdcSelfTest(stack: DemoStack, print: Print): Promise<boolean> {
  const clients: WireClient[] = [];
  const connect = async (): Promise<WireClient> => {
    const c = await WireClient.connect(stack.port, 'analyst', DEMO_DATABASE);
    clients.push(c);
    return c;
  };
  const step = stepPrinter(print);
  try {
    await step('a tool connects with no password and runs as the Identity Center person', async () => {
      const user = await (await connect()).scalar('select current_user');
      expect(user === DEMO_IDC_LOGIN, `current_user is ${String(user)}, expected ${DEMO_IDC_LOGIN}`);
      return `current_user = ${String(user)}`;
    });
    await step('the proxy answered Redshift\'s code 14 with the token, over TLS, and called no credential API', async () => {
      const login = stack.events.find((e) => e.kind === 'login');
      expect(login?.kind === 'login' && /^TLSv1\.[23]$/.test(login.tls) && login.user === DEMO_IDC_LOGIN, `no IdC login was recorded (${JSON.stringify(login)})`);
      const calls = stack.control.emulator.calls.GetClusterCredentials;
      expect(calls === 0, `${calls} GetClusterCredentials calls were made`);
      return `${login?.kind === 'login' ? login.tls : ''}, 0 GetClusterCredentials calls`;
    });
    await step('an expired token is refused with 28000 and a hint, as the tool shows it', async () => {
      stack.control.emulator.identityCenter.expireAccessTokens();
      try {
        await connect();
      } catch (err) {
        expect(err instanceof ServerError && err.fields.code === '28000', `refused with ${String(err)}`);
        return `${(err as ServerError).fields.message}; hint: ${(err as ServerError).fields.hint ?? '(none)'}`;
      }
      throw new StepFailed('the connection was accepted with an expired token');
    });
    await step('a new token is used by the next connection, no restart', async () => {
      await stack.renewIdcToken();
      const user = await (await connect()).scalar('select current_user');
      expect(user === DEMO_IDC_LOGIN, `current_user is ${String(user)}`);
      return `current_user = ${String(user)}`;
    });
    return true;
  } catch {
    return false;
  } finally {
    for (const c of clients) c.close();
  }
}
