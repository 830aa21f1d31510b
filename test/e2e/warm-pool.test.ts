/**
 * --warm: new clients get a pre-opened, logged-in upstream connection with their own startup parameters applied,
 * as if they had logged in fresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;
let port: number;

beforeAll(async () => {
  stack = await startStack();
  const p = await stack.startProxy({}, { warm: 2 });
  port = p.addresses[0]?.port as number;
});

afterAll(async () => {
  await stack?.stop();
});

async function session(user: string, extra: Record<string, unknown> = {}): Promise<{ row: Record<string, unknown>; params: Record<string, string> }> {
  const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'dev', ...extra });
  const params: Record<string, string> = {};
  (c as unknown as { connection: { on(e: string, f: (m: { parameterName: string; parameterValue: string }) => void): void } })
    .connection.on('parameterStatus', (m) => {
      params[m.parameterName] = m.parameterValue;
    });
  await c.connect();
  try {
    const row = (await c.query(`select current_user as u, pg_backend_pid() as pid, current_setting('application_name') as app,
      current_setting('DateStyle') as ds, current_setting('search_path') as sp, backend_start as started
      from pg_stat_activity where pid = pg_backend_pid()`)).rows[0];
    return { row, params };
  } finally {
    await c.end();
  }
}

describe('--warm', () => {
  it('hands a pre-opened connection to the next client, logged in with the same startup parameters, reported as at a fresh login', async () => {
    const settings = { application_name: 'dash-warm', options: '-c search_path=pg_catalog -c DateStyle=SQL,DMY' };
    await session('warmuser', settings); // cold: fills the pool for this identity and these parameters
    const deadline = Date.now() + 5_000;
    let warmed: Awaited<ReturnType<typeof session>> | undefined;
    while (Date.now() < deadline) {
      const s = await session('warmuser', settings);
      if (Date.now() - new Date(s.row.started as string).getTime() > 150) {
        warmed = s;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(warmed, 'a backend older than the client connection (a spare) was used').toBeDefined();
    expect(warmed?.row).toMatchObject({ u: 'IAMA:warmuser', app: 'dash-warm', ds: 'SQL, DMY', sp: 'pg_catalog' });
    expect(warmed?.params.application_name).toBe('dash-warm');
    expect(warmed?.params.DateStyle).toBe('SQL, DMY');
    expect(warmed?.params.server_version).toMatch(/^\d+/);
  });
});
