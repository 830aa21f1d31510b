import { it } from 'vitest';
import net from 'node:net';
import { startStack } from '../../support/stack.js';
import { runPool } from '../../../scripts/load/pool.js';
it('x', async () => {
  const stack = await startStack();
  for (const payload of ['0000000804d2162f', 'a60000000804d21630', '0000000804d2162f']) {
    const firsts: number[] = [];
    const t0 = Date.now();
    await runPool(Array.from({ length: 60 }, (_, i) => i), 50, async () => {
      const s = net.connect({ host: '127.0.0.1', port: stack.port });
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      s.write(Buffer.from(payload, 'hex'));
      await new Promise((r) => { s.once('data', r); setTimeout(r, 1500); });
      firsts.push(Date.now() - t0);
      s.destroy();
    });
    console.log('PAYLOAD', payload, Math.max(...firsts));
  }
  await stack.stop();
}, 60000);
