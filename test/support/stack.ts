/**
 * The whole test stack on loopback, every part real: the PostgreSQL test bed (TLS + md5, Redshift's data plane),
 * the control-plane emulator issuing real temporary passwords into it, and the proxy (in process) reaching the
 * emulator through the real AWS SDK with an endpoint override. Ports are chosen by the OS.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Config, TargetConfig } from '../../src/config/config.js';
import type { CredentialCacheOptions } from '../../src/credentials/credential-cache.js';
import { createLogger } from '../../src/ops/logger.js';
import type { Logger } from '../../src/ops/logger.js';
import { startProxy } from '../../src/proxy/proxy.js';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { createPgDataPlane, startEmulator } from '../../src/emulator/index.js';
import type {
  DataPlane, Emulator, IdentityCenterConfig, Principal, RoleConfig, SsoSessionConfig,
} from '../../src/emulator/index.js';
import { startTestBed } from './pg-server.js';
import type { TestBed } from './pg-server.js';
import { LogCapture } from './log-capture.js';

export const TEST_REGION = 'us-east-1';
export const TEST_CLUSTER = 'test-cluster';
export const TEST_ACCESS_KEY = 'AKIATESTBEDEXAMPLE01';
const TEST_SECRET = 'testbed/secret/key/EXAMPLEKEYEXAMPLEKEY';

/**
 * Points the AWS SDK's default provider chain at the test principal only: environment keys, and shared config
 * files that do not exist, so nothing on the developer's machine leaks in.
 */
export function useTestAwsEnvironment(): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'rap-aws-'));
  process.env.AWS_ACCESS_KEY_ID = TEST_ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = TEST_SECRET;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_REGION = TEST_REGION;
  process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  writeFileSync(process.env.AWS_CONFIG_FILE, '');
  writeFileSync(process.env.AWS_SHARED_CREDENTIALS_FILE, '');
}

export const testPrincipal: Principal = {
  accessKeyId: TEST_ACCESS_KEY,
  secretAccessKey: TEST_SECRET,
  arn: 'arn:aws:iam::123456789012:user/ci',
};

export interface StackOptions {
  /** Lifetime of issued credentials, seconds (the emulator's override). */
  readonly lifetimeSeconds?: number;
  /** Changes to the proxy's target (defaults: the test bed as upstream, the test cluster). */
  readonly target?: Partial<TargetConfig>;
  readonly config?: Partial<Omit<Config, 'listeners'>>;
  readonly cache?: CredentialCacheOptions;
  readonly principals?: readonly Principal[];
  /** Redshift Serverless workgroups (in TEST_REGION) whose endpoint is the test bed. */
  readonly workgroups?: readonly string[];
  /** Roles the emulator's STS AssumeRole hands out. */
  readonly roles?: readonly RoleConfig[];
  /** The test cluster's (and workgroups') custom domain name in the emulator. */
  readonly customDomainName?: string;
  /** More DNS names the bed's server certificate carries (e.g. that custom domain name). */
  readonly bedDnsNames?: readonly string[];
  /** IAM Identity Center sign-ins its SSO portal accepts. */
  readonly ssoSessions?: readonly SsoSessionConfig[];
  /** People who can sign in at the emulator's IAM Identity Center pages. */
  readonly identityCenter?: IdentityCenterConfig;
}

export interface Stack {
  readonly bed: TestBed;
  readonly emulator: Emulator;
  readonly proxy: RunningProxy;
  /** The proxy's client-facing port. */
  readonly port: number;
  readonly logs: LogCapture;
  readonly log: Logger;
  /** Every password the emulator issued, so tests can prove none of them reached a log or an error. */
  readonly issuedPasswords: readonly string[];
  /** Starts another proxy on the same bed and emulator (for tests of other settings). */
  startProxy(target?: Partial<TargetConfig>, config?: Partial<Omit<Config, 'listeners'>>,
    cache?: CredentialCacheOptions): Promise<RunningProxy>;
  stop(): Promise<void>;
}

export function targetFor(bed: TestBed, emulator: Emulator, overrides: Partial<TargetConfig> = {}): TargetConfig {
  return {
    upstreamHost: 'localhost',
    upstreamPort: bed.port,
    clusterId: TEST_CLUSTER,
    region: TEST_REGION,
    dbGroups: [],
    autoCreate: true,
    withIam: false,
    awsEndpointUrl: emulator.url,
    caFile: bed.caCertPath,
    ...overrides,
  };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  useTestAwsEnvironment();
  const domain = options.customDomainName;
  const bed = await startTestBed({ extraDnsNames: options.bedDnsNames ?? [] });
  const issuedPasswords: string[] = [];
  const pgPlane = createPgDataPlane((sql, params) => bed.superuserQuery(sql, params), { database: 'dev' });
  const dataPlane: DataPlane = {
    issue: (user, password, validUntil, opts) => {
      issuedPasswords.push(password);
      return pgPlane.issue(user, password, validUntil, opts);
    },
    userExists: (user) => pgPlane.userExists(user),
    groupExists: (name) => pgPlane.groupExists(name),
  };
  const emulator = await startEmulator({
    principals: options.principals ?? [testPrincipal],
    clusters: [{ id: TEST_CLUSTER, endpoint: { address: 'localhost', port: bed.port }, region: TEST_REGION, customDomainName: domain }],
    workgroups: (options.workgroups ?? []).map((name) => ({ name, endpoint: { address: 'localhost', port: bed.port }, region: TEST_REGION,
      customDomainName: domain })),
    roles: options.roles ?? [],
    ssoSessions: options.ssoSessions ?? [],
    identityCenter: options.identityCenter,
    dataPlane,
    ...(options.lifetimeSeconds !== undefined ? { lifetimeSeconds: options.lifetimeSeconds } : {}),
  });
  const logs = new LogCapture();
  const log = createLogger('debug', logs);
  const proxies: RunningProxy[] = [];
  const start = async (target: Partial<TargetConfig> = {}, config: Partial<Omit<Config, 'listeners'>> = {},
    cache: CredentialCacheOptions = {}): Promise<RunningProxy> => {
    const p = await startProxy({
      listeners: [{ host: '127.0.0.1', port: 0, target: targetFor(bed, emulator, { ...options.target, ...target }) }],
      startupTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
      maxStartupPacket: 10_000,
      logLevel: 'debug',
      ...options.config,
      ...config,
    }, log, { maxCallsPerMinute: 1000, ...options.cache, ...cache });
    proxies.push(p);
    return p;
  };
  const proxy = await start();
  return {
    bed, emulator, proxy, logs, log, issuedPasswords,
    port: proxy.addresses[0]?.port as number,
    startProxy: start,
    async stop() {
      await Promise.all(proxies.map((p) => p.close()));
      await emulator.close();
      await bed.stop();
    },
  };
}
