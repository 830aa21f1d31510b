/**
 * Point 8 of issue 18, the surfaces an attacker on the machine or the network could use, each as the attack:
 * - a secret file (client password) or TLS key readable by group/other was accepted silently (the server refuses
 *   such keys): now the proxy does not start and says how to fix it;
 * - --client-password on the command line is readable by every local user (ps): now a warning says so;
 * - --http-listen 0.0.0.0 served user names, the cluster id and key prefixes to anyone: now it needs a bearer token
 *   file, and without the token only /healthz and /readyz's status answer;
 * - 0.0.0.0 with a password but no TLS started without a word, and its ready line said "no password": now that
 *   needs --allow-plaintext-network, and the ready line says what is configured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOpsServer } from '../../src/admin/http-server.js';
import type { OpsServer } from '../../src/admin/http-server.js';
import { Readiness } from '../../src/admin/readiness.js';
import { clientSecurity, commandLineSecretWarning } from '../../src/commands/start.js';
import { configFromFlags } from '../../src/config/from-flags.js';
import { SecretFileError } from '../../src/config/secret-file.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { ClientTls } from '../../src/front-door/client-tls.js';
import { listenerSecurity } from '../../src/front-door/listener-security.js';
import { createCa, issueCert } from '../support/certs.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rap-surfaces-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const target = { upstreamPort: 5439, upstreamHost: 'c.abc123.us-east-1.redshift.amazonaws.com', dbGroups: [], autoCreate: false, withIam: false };

describe('secret files readable by others', () => {
  it('a client password file with mode 0644 is refused with the chmod that fixes it; 0600 is read', async () => {
    const file = path.join(dir, 'client-password');
    await writeFile(file, 'correct horse\n');
    await chmod(file, 0o644);
    const listener = { host: '127.0.0.1', port: 0, clientAuth: { passwordFile: file }, target };
    expect(() => listenerSecurity(listener)).toThrow(SecretFileError);
    expect(() => listenerSecurity(listener)).toThrow(new RegExp(`readable by every user \\(mode 0644\\).*chmod 600 ${file}`));
    await chmod(file, 0o604);
    expect(() => listenerSecurity(listener)).toThrow(/readable by every user/);
    await chmod(file, 0o600);
    expect(listenerSecurity(listener).scram).toBeDefined();
  });

  it('a client TLS key readable by its group or others is refused, as PostgreSQL refuses it', async () => {
    const ca = await createCa(dir);
    const cert = await issueCert(ca, dir, 'listener', { dns: ['localhost'], ips: ['127.0.0.1'] });
    await chmod(cert.keyPath, 0o644);
    expect(() => new ClientTls({ certFile: cert.certPath, keyFile: cert.keyPath })).toThrow(/client TLS key file .* must be 0600 or less/);
    await chmod(cert.keyPath, 0o600);
    expect(() => new ClientTls({ certFile: cert.certPath, keyFile: cert.keyPath })).not.toThrow();
  });
});

describe('passwords on the command line', () => {
  it('warns when --client-password is an argument (visible in ps), not when it comes from a file or the environment', () => {
    expect(commandLineSecretWarning(['node', 'bin.js', '--client-password', 'x'])).toMatch(/visible to every user.*--client-password-file/);
    expect(commandLineSecretWarning(['node', 'bin.js', '--client-password=x'])).toMatch(/visible/);
    expect(commandLineSecretWarning(['node', 'bin.js', '--client-password-file', '/run/secret'])).toBeUndefined();
  });
});

describe('a network listener without client TLS', () => {
  it('needs --allow-plaintext-network, and the ready line says exactly what protects it', () => {
    const flags = { listen: '0.0.0.0:5439', upstream: target.upstreamHost, clientPassword: 'pw' };
    expect(validateConfig(configFromFlags(flags))).toEqual([expect.stringMatching(/no client TLS.*--allow-plaintext-network/)]);
    const allowed = configFromFlags({ ...flags, allowPlaintextNetwork: true });
    expect(validateConfig(allowed)).toEqual([]);
    expect(clientSecurity(allowed.listeners[0] as never)).toBe('password (SCRAM-SHA-256), no TLS — queries cross the network unencrypted (--allow-plaintext-network)');
    expect(clientSecurity(configFromFlags({ upstream: target.upstreamHost }).listeners[0] as never)).toBe('no password, no TLS');
    expect(clientSecurity(configFromFlags({ listen: '0.0.0.0:5439', upstream: target.upstreamHost, clientPassword: 'pw',
      clientTlsCert: 'c.pem', clientTlsKey: 'k.pem', clientTlsRequire: true }).listeners[0] as never)).toBe('password (SCRAM-SHA-256), TLS required');
  });
});

describe('--http-listen beyond loopback', () => {
  let stack: Stack;
  let ops: OpsServer;
  let base: string;
  const token = 'b'.repeat(40);

  beforeAll(async () => {
    stack = await startStack();
    ops = await startOpsServer({ host: '127.0.0.1', port: 0 }, stack.proxy.metrics, new Readiness(stack.proxy), stack.log, undefined, {}, token);
    base = `http://127.0.0.1:${ops.address.port}`;
  });

  afterAll(async () => {
    await ops?.close();
    await stack?.stop();
  });

  it('is refused without --http-token-file', () => {
    expect(validateConfig(configFromFlags({ upstream: target.upstreamHost, httpListen: '0.0.0.0:9090' })))
      .toEqual([expect.stringMatching(/--http-listen 0\.0\.0\.0 is not a loopback address.*--http-token-file/)]);
    expect(validateConfig(configFromFlags({ upstream: target.upstreamHost, httpListen: '0.0.0.0:9090', httpTokenFile: '/run/t' }))).toEqual([]);
  });

  it('serves /metrics and the readiness details only with the bearer token; probes still work without it', async () => {
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(401);
    expect(metrics.headers.get('www-authenticate')).toBe('Bearer');
    expect(await metrics.text()).not.toMatch(/redshift_auth_proxy/);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${'c'.repeat(40)}` } })).status).toBe(401);
    const authorized = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(authorized.status).toBe(200);
    expect(await authorized.text()).toMatch(/redshift_auth_proxy/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(Object.keys(await ready.json() as object)).toEqual(['ready']);
    const detailed = await fetch(`${base}/readyz`, { headers: { authorization: `Bearer ${token}` } });
    expect(await detailed.json()).toHaveProperty('targets');
  });
});
