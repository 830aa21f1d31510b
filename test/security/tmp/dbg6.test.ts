import { it } from 'vitest';
import { startStack } from '../../support/stack.js';
import { RawConnection } from '../raw-connection.js';
import { scanBackend, startupMessage, SSL_REQUEST } from '../wire.js';
it('x', async () => {
  const stack = await startStack();
  const once = async () => {
    const conn = await RawConnection.open(stack.port);
    conn.write(startupMessage([['user', 'cost'], ['database', 'dev']]));
    await conn.waitFor((d) => scanBackend(d).messages.some((m) => m.type === 'Z'), 5000);
    conn.destroy();
  };
  await once();
  let cpu = process.cpuUsage(); let t = Date.now();
  for (let i = 0; i < 50; i++) await once();
  let d = process.cpuUsage(cpu);
  console.log('RESULT login: wall ms', (Date.now() - t) / 50, 'cpu ms', (d.user + d.system) / 1000 / 50);
  cpu = process.cpuUsage(); t = Date.now();
  for (let i = 0; i < 200; i++) { const c = await RawConnection.open(stack.port); c.write(Buffer.from('0000000200', 'hex')); await c.waitClose(1000); c.destroy(); }
  d = process.cpuUsage(cpu);
  console.log('RESULT refusal: wall ms', (Date.now() - t) / 200, 'cpu ms', (d.user + d.system) / 1000 / 200);
  await stack.stop();
}, 120000);
