/**
 * Everything the benchmark runs against, started once: the test-bed PostgreSQL (TLS + md5) with pgbench's tables,
 * the control-plane emulator issuing real temporary passwords into it, pgbouncer, and the proxy in a child process
 * (a second one with `--warm N` when the build has it), and on request the floors: the bare Node relay and the bare
 * Go relay (relays.ts). Each is reached through a BenchPath.
 */
import { createPgDataPlane, startEmulator } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { startTestBed } from '../../test/support/pg-server.js';
import type { TestBed } from '../../test/support/pg-server.js';
import { TEST_CLUSTER, TEST_REGION, testPrincipal, useTestAwsEnvironment } from '../../test/support/stack.js';
import { startPgbouncer } from './pgbouncer.js';
import type { RunningPgbouncer } from './pgbouncer.js';
import { startProxyProcess } from './proxy-process.js';
import type { MemoryAfterGc, ProxyProcess } from './proxy-process.js';
import { startNodeRelay, startRelay } from './relays.js';
import type { RelayProcess } from './relays.js';
import { libpqEnv, runTimed } from './system.js';
import type { BenchPath } from './workloads.js';

/** The role direct and pgbouncer sessions log in as, with a static password; the proxy logs in as IAMA:bench. */
const ROLE = 'bench';
const PASSWORD = 'bench-static-password';
const DATABASE = 'dev';

export interface BenchSetup {
  readonly scale: number;
  /** Pool size for `--warm`, or undefined when the proxy has no such flag (the row reads "n/a"). */
  readonly warm: number | undefined;
  readonly pgbouncerBinary: string;
  /** Sessions held at once by the memory test (pgbouncer's pool and the bed's max_connections follow). */
  readonly idleSessions: number;
  /** Flags for both proxy children beyond the ones every run needs (e.g. `--no-heal`). */
  readonly proxyArgs?: readonly string[];
  /** Node options for the (plain) proxy child, e.g. `--cpu-prof`. */
  readonly proxyNodeArgs?: readonly string[];
  /** Start the bare Node relay, and the Go relay from this binary when there is one. */
  readonly relays?: { readonly goBinary: string | undefined };
}

export interface Bench {
  readonly bed: TestBed;
  readonly direct: BenchPath;
  readonly pgbouncer: BenchPath;
  readonly proxy: BenchPath;
  readonly proxyWarm: BenchPath | undefined;
  /** The floors, when asked for (BenchSetup.relays). */
  readonly nodeRelay: BenchPath | undefined;
  readonly goRelay: BenchPath | undefined;
  /** The AWS emulator's endpoint, for starting more proxies against the same bed. */
  readonly awsEndpointUrl: string;
  /** The (plain) proxy's memory right after a full garbage collection, for the growth check. */
  proxyMemoryAfterGc(): Promise<MemoryAfterGc>;
  stop(): Promise<void>;
}

export async function startBench(o: BenchSetup): Promise<Bench> {
  useTestAwsEnvironment();
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const s of stops.reverse()) await s().catch((err: unknown) => process.stderr.write(`bench: cleanup: ${String(err)}\n`));
    })();
    return stopping;
  };
  try {
    // pgbouncer keeps its server connections after the memory test; the proxy's 500 sessions come on top.
    const bed = await startTestBed({ maxConnections: 2 * o.idleSessions + 300 });
    stops.push(() => bed.stop());
    await bed.createLoginRole(ROLE, PASSWORD);
    await runTimed('pgbench', ['-i', '-s', String(o.scale), '-q', '-h', bed.socketDir, '-p', String(bed.port), '-U', 'postgres', DATABASE],
      { env: libpqEnv(), timeoutMs: 600_000 });
    // Every path reads the same tables; IAMA:bench (created later by the emulator) must too.
    await bed.superuserQuery('GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC');
    await bed.superuserQuery('VACUUM ANALYZE');

    const emulator = await startPlane(bed);
    stops.push(() => emulator.close());
    const bouncer = await startPgbouncer({ binary: o.pgbouncerBinary, serverPort: bed.port, caFile: bed.caCertPath,
      user: ROLE, password: PASSWORD, database: DATABASE, poolSize: o.idleSessions + 100, maxClients: o.idleSessions + 200 });
    stops.push(() => bouncer.stop());
    const proxyOptions = { upstreamPort: bed.port, caFile: bed.caCertPath, clusterId: TEST_CLUSTER, region: TEST_REGION,
      awsEndpointUrl: emulator.url };
    const proxy = await startProxyProcess({ ...proxyOptions, extraArgs: o.proxyArgs ?? [], nodeArgs: o.proxyNodeArgs ?? [],
      reportMemory: true });
    stops.push(() => proxy.stop());
    let warm: ProxyProcess | undefined;
    if (o.warm !== undefined) {
      warm = await startProxyProcess({ ...proxyOptions, extraArgs: [...(o.proxyArgs ?? []), '--warm', String(o.warm)] });
      stops.push(() => (warm as ProxyProcess).stop());
    }
    const relay = async (start: () => Promise<RelayProcess>): Promise<RelayProcess> => {
      const r = await start();
      stops.push(() => r.stop());
      return r;
    };
    const nodeRelay = o.relays ? await relay(() => startNodeRelay(bed.port, bed.caCertPath)) : undefined;
    const goBinary = o.relays?.goBinary;
    const goRelay = goBinary ? await relay(() => startRelay(goBinary, [], bed.port, bed.caCertPath)) : undefined;
    return {
      bed,
      direct: directPath(bed),
      pgbouncer: middlePath('pgbouncer', bouncer),
      proxy: middlePath('proxy', proxy),
      proxyWarm: warm ? middlePath('proxy_warm', warm) : undefined,
      nodeRelay: nodeRelay ? relayPath('node_relay', nodeRelay) : undefined,
      goRelay: goRelay ? relayPath('go_relay', goRelay) : undefined,
      awsEndpointUrl: emulator.url,
      proxyMemoryAfterGc: () => (proxy.memoryAfterGc as () => Promise<MemoryAfterGc>)(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startPlane(bed: TestBed): Promise<Emulator> {
  return startEmulator({
    principals: [testPrincipal],
    clusters: [{ id: TEST_CLUSTER, endpoint: { address: 'localhost', port: bed.port }, region: TEST_REGION }],
    dataPlane: createPgDataPlane((sql, params) => bed.superuserQuery(sql, params), { database: DATABASE }),
  });
}

/** libpq's verify-full against the bed's CA, with a password: what a user without any proxy would do. */
function directPath(bed: TestBed): BenchPath {
  return {
    name: 'direct',
    // hostaddr skips the name lookup; host is still what the certificate is checked against.
    conninfo: `host=localhost hostaddr=127.0.0.1 port=${bed.port} dbname=${DATABASE} user=${ROLE} ` +
      `sslmode=verify-full sslrootcert=${bed.caCertPath} gssencmode=disable`,
    env: { PGPASSWORD: PASSWORD },
    wire: { host: '127.0.0.1', port: bed.port, user: ROLE, database: DATABASE, password: PASSWORD,
      tls: { ca: bed.caPem, servername: 'localhost' } },
  };
}

/** A local middle process on loopback: plain TCP, no password. */
function middlePath(name: string, middle: RunningPgbouncer | ProxyProcess): BenchPath {
  return {
    name,
    conninfo: `host=127.0.0.1 port=${middle.port} dbname=${DATABASE} user=${ROLE} sslmode=disable gssencmode=disable`,
    env: {},
    wire: { host: '127.0.0.1', port: middle.port, user: ROLE, database: DATABASE },
    pid: middle.pid,
  };
}

/** A bare relay on loopback: plain TCP to it, the server's own password through it (md5 passes through). */
function relayPath(name: string, relay: RelayProcess): BenchPath {
  return {
    name,
    conninfo: `host=127.0.0.1 port=${relay.port} dbname=${DATABASE} user=${ROLE} sslmode=disable gssencmode=disable`,
    env: { PGPASSWORD: PASSWORD },
    wire: { host: '127.0.0.1', port: relay.port, user: ROLE, database: DATABASE, password: PASSWORD },
    pid: relay.pid,
  };
}

/** Every path startBench started, in the order the bench lists them. */
export function allPaths(b: Bench): BenchPath[] {
  return [b.direct, b.pgbouncer, b.nodeRelay, b.goRelay, b.proxy, b.proxyWarm].filter((p): p is BenchPath => p !== undefined);
}
