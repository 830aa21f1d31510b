/**
 * The whole demo, wired: embedded PostgreSQL → stand-in Redshift (TLS + md5) ← proxy → tools, with the control-
 * plane emulator issuing the short-lived passwords. Everything listens on 127.0.0.1; only the proxy's port is
 * chosen by the user, the rest by the OS. `close()` stops the parts in reverse order.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { validateConfig } from '../config/validate-config.js';
import { createLogger } from '../ops/logger.js';
import { startProxy } from '../proxy/proxy.js';
import type { RunningProxy } from '../proxy/proxy.js';
import { createDemoCertificates } from './certificates.js';
import {
  DEMO_CLUSTER, DEMO_DB_USER, DEMO_IDC_LOGIN, DEMO_LOGIN_NAME, DEMO_REGION, DEMO_SIGN_IN_LOGIN, DEMO_SIGN_IN_PROFILE,
  issueDemoIdcToken, signInEnvironment, startControlPlane,
} from './control-plane.js';
import type { ControlPlane } from './control-plane.js';
import { DEMO_DATABASE, startEmbeddedDatabase } from './embedded-database.js';
import { startFakeRedshift } from './fake-redshift.js';
import type { FakeRedshift, FakeRedshiftEvent } from './fake-redshift.js';
import { SharedBackend } from './shared-backend.js';
import { proxyLogDestination, storyLine } from './story-log.js';
import type { Print } from './story-log.js';

export interface DemoOptions {
  /** The proxy's port on 127.0.0.1 (0: chosen by the OS). */
  readonly port: number;
  /** Lifetime of every temporary password, seconds. */
  readonly lifetimeSeconds: number;
  /** The proxy's log level ('silent' keeps its lines out of the self-test's output). */
  readonly proxyLogLevel: 'info' | 'warn' | 'silent';
  readonly print: Print;
  /**
   * Redshift's own IAM Identity Center login instead of GetClusterCredentials: the stand-in offers code 14, the
   * proxy listens with --idc-token-command, printing a token the demo's Identity Center issued.
   */
  readonly idc?: boolean | undefined;
  /**
   * Sign-in on demand: nobody is signed in; the first tool opens the IAM Identity Center sign-in (the emulator's page
   * in the browser; approved at once when `approveAtOnce`) and sessions run as the person (--db-user-from-identity).
   */
  readonly signIn?: { readonly approveAtOnce: boolean; readonly browser?: string | undefined } | undefined;
}

export interface DemoStack {
  readonly proxy: RunningProxy;
  /** The configuration the proxy runs with (as the CLI would have filled it). */
  readonly config: Config;
  /** The port tools connect to. */
  readonly port: number;
  readonly redshift: FakeRedshift;
  readonly control: ControlPlane;
  /** The CA the proxy was told to trust (PEM), for checks that talk to the stand-in Redshift directly. */
  readonly caPem: string;
  /** Everything the stand-in Redshift reported, oldest first. */
  readonly events: readonly FakeRedshiftEvent[];
  /** With idc: the file --idc-token-command prints, and a way to put a new token there. */
  readonly idcTokenFile?: string | undefined;
  renewIdcToken(): Promise<void>;
  /** Milliseconds each part took to start. */
  readonly timings: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** The proxy could not listen on the port it was given. */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`127.0.0.1:${port} is already in use`);
    this.name = 'PortInUseError';
  }
}

/**
 * Fails fast when the proxy's port is taken: the embedded database takes seconds to start, and a busy port is
 * the likeliest reason the demo cannot run (a proxy or demo already running, a tunnel to a real cluster).
 */
async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(port) : err));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

function describeEvent(e: FakeRedshiftEvent): string {
  switch (e.kind) {
    case 'login':
      return e.user.startsWith('AWSIDC:')
        ? `session ${e.session}: ${e.tls} IAM Identity Center login (code 14, token checked with Identity Center) accepted for ${e.user} on "${e.database}" (token valid until ${e.validUntil.toISOString().slice(11, 19)})`
        : `session ${e.session}: ${e.tls} md5 login accepted for ${e.user} on "${e.database}" (password valid until ${e.validUntil.toISOString().slice(11, 19)})`;
    case 'refused':
      return `session ${e.session}: refused ${e.user ?? '(no user)'} with ${e.code}: ${e.reason}`;
    case 'closed':
      return `session ${e.session}: ${e.user} disconnected`;
    default:
      return String(e satisfies never);
  }
}

export async function startDemoStack(options: DemoOptions): Promise<DemoStack> {
  const { print } = options;
  const timings: Record<string, number> = {};
  const cleanups: Array<() => Promise<void> | void> = [];
  const closeAll = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  const timed = async <T>(name: string, start: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const value = await start();
    timings[name] = Math.round(performance.now() - t0);
    return value;
  };
  try {
    await assertPortFree(options.port);
    // Key generation runs on libuv's thread pool, so it overlaps PGlite's start on the main thread.
    const [started, made] = await Promise.allSettled([
      timed('database', () => startEmbeddedDatabase(options.idc ? [DEMO_LOGIN_NAME, DEMO_IDC_LOGIN]
        : options.signIn ? [DEMO_LOGIN_NAME, DEMO_SIGN_IN_LOGIN] : [DEMO_LOGIN_NAME])),
      timed('certificates', () => createDemoCertificates()),
    ]);
    if (started.status === 'fulfilled') cleanups.push(() => started.value.close());
    if (started.status === 'rejected') throw started.reason;
    if (made.status === 'rejected') throw made.reason;
    const [database, certificates] = [started.value, made.value];
    const backend = await SharedBackend.start(database.db, DEMO_DATABASE);
    const dir = mkdtempSync(path.join(tmpdir(), 'redshift-auth-proxy-demo-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const caFile = path.join(dir, 'demo-ca.pem');
    writeFileSync(caFile, certificates.caPem);

    const events: FakeRedshiftEvent[] = [];
    // The control plane needs the data plane's address and the data plane needs the issued passwords: the
    // stand-in Redshift looks them up late, through this reference.
    let control: ControlPlane | undefined;
    const redshift = await timed('redshift', () => startFakeRedshift({
      certificates,
      backend,
      database: DEMO_DATABASE,
      issued: (user) => control?.plane.roles.get(user),
      idc: options.idc ? { check: (token) => control?.emulator.identityCenter.validateToken(token), namespace: 'AWSIDC' } : undefined,
      onEvent: (e) => {
        events.push(e);
        if (options.proxyLogLevel !== 'silent') storyLine(print, 'redshift', describeEvent(e));
      },
    }));
    cleanups.push(() => redshift.close());
    control = await timed('emulator', () => startControlPlane({
      lifetimeSeconds: options.lifetimeSeconds,
      endpoint: { address: redshift.host, port: redshift.port },
      approveAtOnce: options.signIn ? options.signIn.approveAtOnce : true,
      onIssued: (c) => {
        if (options.proxyLogLevel === 'silent') return;
        storyLine(print, 'aws', `GetClusterCredentials: issued a password for ${c.user}, valid until ${c.validUntil.toISOString().slice(11, 19)} (${options.lifetimeSeconds} s)`);
      },
    }));
    const controlPlane = control;
    cleanups.push(() => controlPlane.close());

    const idcTokenFile = path.join(dir, 'idc-token');
    const renewIdcToken = async (): Promise<void> => {
      writeFileSync(idcTokenFile, await issueDemoIdcToken(controlPlane.emulator.url), { mode: 0o600 });
    };
    if (options.idc) await renewIdcToken();
    if (options.signIn) {
      signInEnvironment(dir, controlPlane.emulator.url);
      if (options.signIn.browser !== undefined) process.env.BROWSER = options.signIn.browser;
    }
    const config: Config = {
      listeners: [{
        host: '127.0.0.1',
        port: options.port,
        target: options.idc ? {
          upstreamHost: redshift.host,
          upstreamPort: redshift.port,
          dbGroups: [],
          autoCreate: false,
          withIam: false,
          idcTokenCommand: `/bin/cat '${idcTokenFile}'`,
          caFile,
        } : options.signIn ? {
          upstreamHost: redshift.host,
          upstreamPort: redshift.port,
          clusterId: DEMO_CLUSTER,
          region: DEMO_REGION,
          profile: DEMO_SIGN_IN_PROFILE,
          dbUserFromIdentity: true,
          dbGroups: [],
          autoCreate: true,
          withIam: false,
          awsEndpointUrl: control.emulator.url,
          caFile,
        } : {
          upstreamHost: redshift.host,
          upstreamPort: redshift.port,
          clusterId: DEMO_CLUSTER,
          region: DEMO_REGION,
          dbUser: DEMO_DB_USER,
          dbGroups: [],
          autoCreate: false,
          withIam: false,
          awsEndpointUrl: control.emulator.url,
          caFile,
        },
      }],
      startupTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
      maxStartupPacket: 10_000,
      logLevel: options.proxyLogLevel,
    };
    const problems = validateConfig(config);
    if (problems.length > 0) throw new Error(`demo configuration is invalid: ${problems.join('; ')}`);
    const log = createLogger(options.proxyLogLevel, proxyLogDestination(print));
    const proxy = await timed('proxy', () => startProxy(config, log).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(options.port);
      throw err;
    }));
    cleanups.push(() => proxy.close());
    return {
      proxy,
      config,
      port: proxy.addresses[0]?.port ?? options.port,
      redshift,
      control: controlPlane,
      caPem: certificates.caPem,
      events,
      timings,
      idcTokenFile: options.idc ? idcTokenFile : undefined,
      renewIdcToken,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
