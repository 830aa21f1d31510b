/**
 * The IAM Identity Center test stack, every part real: the PostgreSQL test bed, the control-plane emulator's
 * Identity Center issuing tokens to the real SSO-OIDC SDK client, the IdC Redshift stand-in (src/emulator) in front
 * of the bed that checks those tokens with the emulator and logs in as `AWSIDC:<user>`, and the proxy in process
 * with an IdC listener. Tokens reach the proxy through --idc-token-command (`cat` of a file the test writes).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import type { Config, TargetConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/ops/logger.js';
import type { Logger } from '../../src/ops/logger.js';
import { startProxy } from '../../src/proxy/proxy.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { createPgDataPlane, startEmulator } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { pgIdcBackend } from '../../src/emulator/idc-pg-backend.js';
import { startIdcRedshift } from '../../src/emulator/idc-redshift.js';
import type { IdcRedshift } from '../../src/emulator/idc-redshift.js';
import { issueCert } from './certs.js';
import { LogCapture } from './log-capture.js';
import { startTestBed } from './pg-server.js';
import type { TestBed } from './pg-server.js';
import { useTestAwsEnvironment, testPrincipal, TEST_REGION } from './stack.js';

export const IDC_USER = 'alice@example.com';
export const IDC_OTHER_USER = 'bob@example.com';
export const ISSUER_URL = 'https://identitycenter.amazonaws.com/ssoins-7223a1b2c3d4e5f6';

export interface IdcStackOptions {
  /** Lifetime of the access tokens the emulator issues (default 3600 s). */
  readonly accessTokenSeconds?: number;
  /** The stand-in's identity namespace (default AWSIDC). */
  readonly namespace?: string;
  /**
   * Approve sign-ins at once (default true, which issueToken needs). False: the page waits for the (test) browser's
   * click, and no token is issued at start.
   */
  readonly autoApprove?: boolean;
}

export interface IdcStack {
  readonly bed: TestBed;
  readonly emulator: Emulator;
  readonly standIn: IdcRedshift;
  readonly proxy: RunningProxy;
  readonly port: number;
  readonly logs: LogCapture;
  readonly log: Logger;
  /** The file --idc-token-command prints (`cat`), and the command. */
  readonly tokenFile: string;
  readonly tokenCommand: string;
  /** Every token issued, so tests can prove none reached a log or an error. */
  readonly issuedTokens: readonly string[];
  /** A token from the emulator through the real SDK (device grant, approved at once), for `scopes`. */
  issueToken(scopes?: readonly string[]): Promise<string>;
  /** Writes what --idc-token-command prints next. */
  setCommandOutput(text: string): Promise<void>;
  /** The IdC target of the proxy's listener, with changes. */
  target(overrides?: Partial<TargetConfig>): TargetConfig;
  startProxy(target?: Partial<TargetConfig>, config?: Partial<Omit<Config, 'listeners'>>): Promise<RunningProxy>;
  stop(): Promise<void>;
}

export async function startIdcStack(options: IdcStackOptions = {}): Promise<IdcStack> {
  useTestAwsEnvironment();
  const bed = await startTestBed();
  const emulator = await startEmulator({
    principals: [testPrincipal],
    dataPlane: createPgDataPlane((sql, params) => bed.superuserQuery(sql, params), { database: 'dev' }),
    identityCenter: { users: [{ userName: IDC_USER, accountId: '123456789012', roleName: 'Analyst' },
      { userName: IDC_OTHER_USER, accountId: '123456789012', roleName: 'Analyst' }], autoApprove: options.autoApprove ?? true,
    ...(options.accessTokenSeconds !== undefined ? { accessTokenSeconds: options.accessTokenSeconds } : {}) },
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'rap-idc-'));
  const cert = await issueCert(bed.ca, dir, 'idc-redshift', { dns: ['localhost'], ips: ['127.0.0.1'] });
  const standIn = await startIdcRedshift({
    secureContext: tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' }),
    checkToken: (token) => emulator.identityCenter.validateToken(token),
    backend: pgIdcBackend({ host: '127.0.0.1', port: bed.port, caPem: bed.caPem,
      dataPlane: createPgDataPlane((sql, params) => bed.superuserQuery(sql, params), { database: 'dev' }) }),
    namespace: options.namespace,
  });
  const oidc = new SSOOIDCClient({ region: TEST_REGION, endpoint: emulator.url, maxAttempts: 1 });
  const issuedTokens: string[] = [];
  const issueToken = async (scopes: readonly string[] = ['redshift:connect']): Promise<string> => {
    const client = await oidc.send(new RegisterClientCommand({ clientName: 'idc-test', clientType: 'public', scopes: [...scopes],
      grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'], issuerUrl: ISSUER_URL }));
    const device = await oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret,
      startUrl: ISSUER_URL }));
    const token = await oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret,
      grantType: 'urn:ietf:params:oauth:grant-type:device_code', deviceCode: device.deviceCode }));
    if (!token.accessToken) throw new Error('the emulator issued no access token');
    issuedTokens.push(token.accessToken);
    return token.accessToken;
  };
  const tokenFile = path.join(dir, 'token');
  const tokenCommand = `cat '${tokenFile}'`;
  const setCommandOutput = (text: string): Promise<void> => writeFile(tokenFile, text, { mode: 0o600 });
  await setCommandOutput(options.autoApprove === false ? '' : await issueToken());
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, bed.caPem);
  const target = (overrides: Partial<TargetConfig> = {}): TargetConfig => ({
    upstreamHost: 'localhost', upstreamPort: standIn.port, dbGroups: [], autoCreate: false, withIam: false,
    idcTokenCommand: tokenCommand, caFile, ...overrides,
  });
  const logs = new LogCapture();
  const log = createLogger('debug', logs);
  const proxies: RunningProxy[] = [];
  const start = async (t: Partial<TargetConfig> = {}, config: Partial<Omit<Config, 'listeners'>> = {}): Promise<RunningProxy> => {
    const p = await startProxy({
      listeners: [{ host: '127.0.0.1', port: 0, target: target(t) }],
      startupTimeoutMs: 10_000, connectTimeoutMs: 5_000, maxStartupPacket: 10_000, logLevel: 'debug', ...config,
    }, log, { maxCallsPerMinute: 1000 });
    proxies.push(p);
    return p;
  };
  const proxy = await start();
  return {
    bed, emulator, standIn, proxy, port: proxy.addresses[0]?.port as number, logs, log, tokenFile, tokenCommand,
    issuedTokens, issueToken, setCommandOutput, target, startProxy: start,
    async stop() {
      await Promise.all(proxies.map((p) => p.close()));
      await standIn.close();
      await emulator.close();
      await bed.stop();
    },
  };
}
