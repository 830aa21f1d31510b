/**
 * The demo's AWS side, all in this process: the control-plane emulator (the same one the test suite uses, spoken
 * to by the real AWS SDK through an endpoint override) with one demo cluster and one demo identity, whose IAM
 * policy allows exactly `redshift:GetClusterCredentials` for the database user `analyst` on the demo cluster.
 *
 * The identity's keys exist only in this process's environment, and the SDK's shared config and credentials files
 * are pointed at empty temporary files, so the developer's own AWS configuration is neither read nor touched.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import { MemoryDataPlane, startEmulator } from '../emulator/index.js';
import type { DataPlane, Emulator } from '../emulator/index.js';

export const DEMO_REGION = 'us-east-1';
export const DEMO_CLUSTER = 'demo-cluster';
export const DEMO_ACCOUNT = '123456789012';
/** The DbUser the proxy requests; GetClusterCredentials answers with the login name `IAM:analyst`. */
export const DEMO_DB_USER = 'analyst';
export const DEMO_LOGIN_NAME = `IAM:${DEMO_DB_USER}`;
export const DEMO_IDENTITY_ARN = `arn:aws:iam::${DEMO_ACCOUNT}:user/demo-analyst`;
/** `--idc`: the person in the demo's IAM Identity Center, and the database user Redshift makes of them. */
export const DEMO_IDC_USER = 'analyst@example.com';
export const DEMO_IDC_LOGIN = `AWSIDC:${DEMO_IDC_USER}`;
/** The demo Identity Center instance's issuer URL (what --idc-issuer-url would name). */
/** --sign-in: the profile (sso_session only) the proxy signs in through, and the database user it then runs as. */
export const DEMO_SIGN_IN_PROFILE = 'demo-sso';
export const DEMO_SIGN_IN_LOGIN = `IAMA:${DEMO_IDC_USER}`;
export const DEMO_START_URL = 'https://d-demo000000.awsapps.com/start';
export const DEMO_ISSUER_URL = 'https://identitycenter.amazonaws.com/ssoins-demo0000000000';

/** One credential the emulator issued (kept in memory for the self-test; never printed). */
export interface IssuedCredential {
  readonly user: string;
  readonly password: string;
  readonly validUntil: Date;
}

export interface ControlPlane {
  readonly emulator: Emulator;
  /** Who holds which password until when: what the stand-in Redshift checks logins against. */
  readonly plane: MemoryDataPlane;
  /** Every credential issued, oldest first. */
  readonly issued: readonly IssuedCredential[];
  close(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Lifetime of every issued credential, seconds (the emulator's override of the requested duration). */
  readonly lifetimeSeconds: number;
  /** Where the cluster's data plane listens (the stand-in Redshift). */
  readonly endpoint: { readonly address: string; readonly port: number };
  readonly onIssued?: (credential: IssuedCredential) => void;
  /** The sign-in page approves without a click (default true); --sign-in without --self-test shows it. */
  readonly approveAtOnce?: boolean | undefined;
}

/**
 * Sets this process's AWS environment to a demo identity only. Returns the temporary folder holding the empty
 * config files, for removal at exit.
 */
export function isolateAwsEnvironment(accessKeyId: string, secretAccessKey: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'redshift-auth-proxy-demo-aws-'));
  const configFile = path.join(dir, 'config');
  const credentialsFile = path.join(dir, 'credentials');
  writeFileSync(configFile, '');
  writeFileSync(credentialsFile, '');
  process.env.AWS_ACCESS_KEY_ID = accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = secretAccessKey;
  process.env.AWS_REGION = DEMO_REGION;
  process.env.AWS_CONFIG_FILE = configFile;
  process.env.AWS_SHARED_CREDENTIALS_FILE = credentialsFile;
  // Nothing else in the provider chain may answer: no profile, no session token, no instance metadata.
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  // The SDK's notice that its releases from 2027 on need Node 22 says nothing about this demo and would land in
  // the middle of its output on Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
  delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  return dir;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  // Keys made up at start: they mean something to this emulator only, and only while it runs.
  const accessKeyId = `AKIADEMO${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const awsDir = isolateAwsEnvironment(accessKeyId, secretAccessKey);

  const plane = new MemoryDataPlane({ users: [DEMO_LOGIN_NAME] });
  const issued: IssuedCredential[] = [];
  const dataPlane: DataPlane = {
    issue: async (user, password, validUntil, opts) => {
      await plane.issue(user, password, validUntil, opts);
      const credential = { user, password, validUntil };
      issued.push(credential);
      options.onIssued?.(credential);
    },
    userExists: (user) => plane.userExists(user),
    groupExists: (name) => plane.groupExists(name),
  };
  const allowed = new Set([
    `arn:aws:redshift:${DEMO_REGION}:${DEMO_ACCOUNT}:dbuser:${DEMO_CLUSTER}/${DEMO_DB_USER}`,
    `arn:aws:redshift:${DEMO_REGION}:${DEMO_ACCOUNT}:dbname:${DEMO_CLUSTER}/dev`,
  ]);
  const emulator = await startEmulator({
    principals: [{
      accessKeyId,
      secretAccessKey,
      arn: DEMO_IDENTITY_ARN,
      allow: (action, resource) => action === 'redshift:GetClusterCredentials' && allowed.has(resource),
    }],
    clusters: [{ id: DEMO_CLUSTER, endpoint: options.endpoint, region: DEMO_REGION }],
    // The demo's Identity Center: one person, signed in at once (as a browser with a live IdC session would be).
    identityCenter: { users: [{ userName: DEMO_IDC_USER, accountId: DEMO_ACCOUNT, roleName: 'Analyst' }],
      autoApprove: options.approveAtOnce !== false },
    dataPlane,
    lifetimeSeconds: options.lifetimeSeconds,
  });
  return {
    emulator,
    plane,
    issued,
    async close() {
      await emulator.close();
      rmSync(awsDir, { recursive: true, force: true });
    },
  };
}

/**
 * --sign-in: a home folder with nothing but an `sso_session` profile (no keys, no AWS CLI), and the SDK's SSO and
 * OIDC calls sent to the emulator. Returns the home folder.
 */
export function signInEnvironment(dir: string, emulatorUrl: string): string {
  const home = path.join(dir, 'home');
  mkdirSync(path.join(home, '.aws'), { recursive: true });
  const configFile = path.join(home, '.aws', 'config');
  writeFileSync(configFile, `[profile ${DEMO_SIGN_IN_PROFILE}]\nsso_session = demo\nsso_account_id = ${DEMO_ACCOUNT}\n` +
    `sso_role_name = Analyst\nregion = ${DEMO_REGION}\n\n[sso-session demo]\nsso_start_url = ${DEMO_START_URL}\n` +
    `sso_region = ${DEMO_REGION}\nsso_registration_scopes = sso:account:access\n`);
  process.env.HOME = home;
  process.env.AWS_CONFIG_FILE = configFile;
  process.env.AWS_ENDPOINT_URL_SSO = emulatorUrl;
  process.env.AWS_ENDPOINT_URL_SSO_OIDC = emulatorUrl;
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  return home;
}

/**
 * An IAM Identity Center access token for the demo person with the redshift:connect scope, from the emulator through
 * the real SSO-OIDC client: RegisterClient, then the device grant (approved at once by the demo's Identity Center).
 */
export async function issueDemoIdcToken(emulatorUrl: string): Promise<string> {
  const oidc = new SSOOIDCClient({ region: DEMO_REGION, endpoint: emulatorUrl, maxAttempts: 1 });
  try {
    const client = await oidc.send(new RegisterClientCommand({ clientName: 'redshift-auth-proxy demo', clientType: 'public',
      scopes: ['redshift:connect'], grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'], issuerUrl: DEMO_ISSUER_URL }));
    const device = await oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret,
      startUrl: DEMO_ISSUER_URL }));
    const token = await oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret,
      grantType: 'urn:ietf:params:oauth:grant-type:device_code', deviceCode: device.deviceCode }));
    if (!token.accessToken) throw new Error('the demo Identity Center issued no access token');
    return token.accessToken;
  } finally {
    oidc.destroy();
  }
}
