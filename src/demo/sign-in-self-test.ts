/**
 * `--sign-in --self-test`: nobody is signed in; three tools connect at once; the proxy opens one sign-in (the demo
 * browser follows it), holds their startups, and each runs as the person (--db-user-from-identity). Each step is
 * printed as PASS or FAIL; the checks behind the proxy ask the emulator and the AWS CLI's token cache directly.
 */
import { statSync } from 'node:fs';
import { profileSignIn, tokenPath } from '../signin/index.js';
import { DEMO_SIGN_IN_LOGIN, DEMO_SIGN_IN_PROFILE } from './control-plane.js';
import type { DemoStack } from './demo-stack.js';
import { DEMO_DATABASE } from './embedded-database.js';
import type { Print } from './story-log.js';
import { expect, stepPrinter } from './self-test-steps.js';
import { WireClient } from './wire-client.js';

export async function runSignInSelfTest(stack: DemoStack, print: Print): Promise<boolean> {
  const clients: WireClient[] = [];
  const step = stepPrinter(print);
  try {
    await step('three tools connect at once with nobody signed in; each runs as the person', async () => {
      const users = await Promise.all(['dbeaver', 'psql', 'dbt'].map(async (tool) => {
        const c = await WireClient.connect(stack.port, tool, DEMO_DATABASE);
        clients.push(c);
        return String(await c.scalar('select current_user'));
      }));
      expect(users.every((u) => u === DEMO_SIGN_IN_LOGIN), `current_user: ${users.join(', ')}, expected ${DEMO_SIGN_IN_LOGIN}`);
      return `current_user = ${users.join(', ')}`;
    });
    await step('one sign-in served them all, and its token is where the AWS CLI keeps it', async () => {
      const approvals = stack.control.emulator.identityCenter.approvals;
      expect(approvals === 1, `${approvals} sign-ins were approved`);
      const mode = statSync(tokenPath(profileSignIn(DEMO_SIGN_IN_PROFILE).target)).mode & 0o777;
      expect(mode === 0o600, `the token file has mode ${mode.toString(8)}`);
      return `1 sign-in, token file mode 600, ${stack.control.emulator.calls.GetCallerIdentity} GetCallerIdentity call(s)`;
    });
    return true;
  } catch {
    return false;
  } finally {
    for (const c of clients) c.close();
  }
}
