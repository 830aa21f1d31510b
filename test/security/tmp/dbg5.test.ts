import { it } from 'vitest';
import net from 'node:net';
import { startStack } from '../../support/stack.js';
import { RawConnection } from '../raw-connection.js';
import { query, scanBackend, startupMessage, TERMINATE } from '../wire.js';
function proxySockets(port: number): net.Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h): h is net.Socket => h instanceof net.Socket && h.localPort === port);
}
it('x', async () => {
  const stack = await startStack();
  const conn = await RawConnection.open(stack.port);
  conn.write(startupMessage([['user', 'term'], ['database', 'dev']]));
  await conn.waitFor((d) => scanBackend(d).messages.some((m) => m.type === 'Z'), 5000);
  conn.write(TERMINATE);
  const closed = await conn.waitClose(1000);
  console.log('RESULT server closed client after Terminate:', closed);
  if (process.env.MORE) conn.write(query('begin'));
  await new Promise((r) => setTimeout(r, 100));
  if (process.env.RST) conn.reset(); else conn.destroy();
  await new Promise((r) => setTimeout(r, 500));
  console.log('RESULT proxy-side sockets still open after client destroyed:', proxySockets(stack.port).length,
    'sessions:', stack.proxy.listeners[0]?.activeConnections);
  const t = Date.now();
  const done = await Promise.race([stack.proxy.close().then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
  console.log('RESULT proxy.close() finished within 3 s:', done, Date.now() - t);
  await stack.stop();
}, 60000);
