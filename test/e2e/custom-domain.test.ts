/**
 * Custom domain names end to end: the cluster known to the emulator only by its custom domain, a real client
 * through the proxy, TLS to the test bed reached at 127.0.0.1 but verified against the custom name. A bed whose
 * certificate lacks the name is refused before any credential is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/clients.js';
import { refusal } from '../support/refusals.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const DOMAIN = 'warehouse.example.test';
let named: Stack;
let unnamed: Stack;

beforeAll(async () => {
  [named, unnamed] = await Promise.all([
    startStack({ customDomainName: DOMAIN, bedDnsNames: [DOMAIN] }),
    startStack({ customDomainName: DOMAIN }),
  ]);
});

afterAll(async () => {
  await Promise.all([named?.stop(), unnamed?.stop()]);
});

describe('--custom-domain', () => {
  it('logs in with CustomDomainName alone and verifies the certificate against the custom name', async () => {
    const p = await named.startProxy({ upstreamHost: '127.0.0.1', clusterId: undefined, customDomain: DOMAIN, dbUser: 'domain_user' });
    const port = p.addresses[0]?.port as number;
    const rows = await withClient(port, 'anyone', async (c) => (await c.query('select current_user as u')).rows);
    expect(rows).toEqual([{ u: 'IAMA:domain_user' }]);
    expect(named.emulator.callLog.filter((c) => c.action === 'GetClusterCredentials').at(-1)?.params)
      .toMatchObject({ CustomDomainName: DOMAIN });
  });

  it('refuses a server whose certificate does not carry the custom name (08001), sending it nothing', async () => {
    const p = await unnamed.startProxy({ upstreamHost: '127.0.0.1', clusterId: undefined, customDomain: DOMAIN, dbUser: 'domain_user' });
    const r = await refusal(p.addresses[0]?.port as number, 'anyone');
    expect(r.code).toBe('08001');
    expect(r.message).toMatch(new RegExp(`certificate of ${DOMAIN.replace(/\./g, '\\.')} could not be verified`));
  });
});
