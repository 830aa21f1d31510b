import { it } from 'vitest';
import { startStack } from '../../support/stack.js';
import { RawConnection } from '../raw-connection.js';
import { SSL_REQUEST, startupMessage } from '../wire.js';
import { runPool } from '../../../scripts/load/pool.js';
it('x', async () => {
  const stack = await startStack();
  const mode = process.env.MODE ?? 'ssl';
  const results: string[] = [];
  await runPool(Array.from({ length: 60 }, (_, i) => i), 50, async (i) => {
    const conn = await RawConnection.open(stack.port);
    const t = Date.now();
    if (mode === 'mix' && i % 5 === 0) conn.write(startupMessage([['user', 'fuzz'], ['database', 'dev']]));
    else conn.write(SSL_REQUEST);
    const ok = await conn.waitFor((d) => d.length > 0, 3000);
    results.push(`${i}:${ok ? 'ok' : 'NO'}:${Date.now() - t}`);
    conn.destroy();
  });
  console.log('RES', results.join(' '));
  console.log('LISTENER', stack.proxy.listeners[0]?.totalConnections, stack.proxy.listeners[0]?.activeConnections);
  await stack.stop();
}, 60000);
