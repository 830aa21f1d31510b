import { it } from 'vitest';
import fc from 'fast-check';
import { startStack } from '../../support/stack.js';
import { RawConnection } from '../raw-connection.js';
import { frontCase, describeCase } from '../fuzz-cases.js';
import { scanBackend } from '../wire.js';
import { runPool } from '../../../scripts/load/pool.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
it('x', async () => {
  const stack = await startStack();
  const conc = Number(process.env.CONC ?? 50);
  const h = monitorEventLoopDelay({ resolution: 5 }); h.enable(); const t0 = Date.now();
  await runPool(fc.sample(frontCase, { numRuns: 60, seed: 1 }), conc, async (c) => {
    const conn = await RawConnection.open(stack.port);
    const t = Date.now();
    let from = 0;
    for (const cut of [...c.splits, c.bytes.length]) { if (cut <= from) continue; conn.write(c.bytes.subarray(from, cut)); from = cut; if (c.pauses) await new Promise((r) => setTimeout(r, 1)); }
    const closed = await conn.waitIdleOrClose(Number(process.env.IDLE ?? 200), 5000);
    const s = scanBackend(conn.data);
    console.log(Date.now() - t, closed, conn.closedByServer, s.answers, s.messages.map((m) => m.type).join(''), s.incomplete, conn.bytesReceived, describeCase(c).slice(0, 100));
    conn.destroy();
  });
  console.log('LISTENER', stack.proxy.listeners[0]?.totalConnections, stack.proxy.listeners[0]?.activeConnections); console.log('LOOP max', h.max / 1e6, 'elapsed', Date.now() - t0);
  await stack.stop();
}, 60000);
