/**
 * The config's `users:` map: a local user name gets its own database user and groups; other names keep the
 * target's settings; the two identities hold separate credentials in the one cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/clients.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await stack.bed.superuserQuery('create role bi_readers nologin');
  await stack.bed.superuserQuery('create role etl nologin');
});

afterAll(async () => {
  await stack?.stop();
});

describe('users: map', () => {
  it('logs a mapped local user in as its own database user with its own groups', async () => {
    const p = await stack.startProxy({ dbGroups: ['bi_readers'], users: { 'etl-bot': { dbUser: 'etl_reader', dbGroups: ['etl'] },
      renamed: { dbUser: 'renamed_db' } } });
    const port = p.addresses[0]?.port as number;
    const roles = (user: string) => withClient(port, user, async (c) => {
      const r = await c.query(`select current_user as u, pg_has_role(current_user, 'etl', 'member') as etl,
        pg_has_role(current_user, 'bi_readers', 'member') as bi`);
      return r.rows[0] as { u: string; etl: boolean; bi: boolean };
    });
    expect(await roles('etl-bot')).toEqual({ u: 'IAMA:etl_reader', etl: true, bi: false });
    expect(await roles('renamed')).toEqual({ u: 'IAMA:renamed_db', etl: false, bi: true });
    expect(await roles('someone')).toEqual({ u: 'IAMA:someone', etl: false, bi: true });
    expect(p.cache.expiries().length).toBe(3);
  });
});
