/**
 * What a load or soak run drives: the PostgreSQL test bed (TLS + md5, max_connections 700), the control-plane
 * emulator issuing real temporary passwords into it, and the proxy as users run it — the built executable in its
 * own process (so /proc/<pid> shows its memory alone), with the memory reporter preloaded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startProxyProcess } from '../bench/proxy-process.js';
import type { ProxyProcess } from '../bench/proxy-process.js';
import { createPgDataPlane, startEmulator } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { startTestBed } from '../../test/support/pg-server.js';
import type { TestBed } from '../../test/support/pg-server.js';
import { TEST_CLUSTER, TEST_REGION, testPrincipal, useTestAwsEnvironment } from '../../test/support/stack.js';

export interface LoadPlane {
  readonly bed: TestBed;
  readonly emulator: Emulator;
  readonly proxy: ProxyProcess;
  /** JSON lines from the reporter inside the proxy (see heap-reporter.ts). */
  readonly memoryFile: string;
  stop(): Promise<void>;
}

export interface LoadPlaneOptions {
  /** How often the proxy reports its heap, ms. */
  readonly memoryIntervalMs: number;
  /** More proxy flags. */
  readonly proxyArgs?: readonly string[];
}

/** The built reporter, found from the repository root as the built proxy is (also when this file runs from source). */
const REPORTER = pathToFileURL(path.resolve('dist/scripts/load/heap-reporter.js')).href;

export async function startLoadPlane(o: LoadPlaneOptions): Promise<LoadPlane> {
  useTestAwsEnvironment();
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => process.stderr.write(`load: cleanup: ${String(err)}\n`));
  };
  try {
    const bed = await startTestBed({ maxConnections: 700 });
    stops.push(() => bed.stop());
    const emulator = await startEmulator({
      principals: [testPrincipal],
      clusters: [{ id: TEST_CLUSTER, endpoint: { address: 'localhost', port: bed.port }, region: TEST_REGION }],
      dataPlane: createPgDataPlane((sql, params) => bed.superuserQuery(sql, params), { database: 'dev' }),
    });
    stops.push(() => emulator.close());
    const dir = await mkdtemp(path.join(tmpdir(), 'rap-load-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    const memoryFile = path.join(dir, 'memory.jsonl');
    // The child inherits our environment: the test principal's keys, and where to report.
    process.env.RAP_LOAD_MEMORY_FILE = memoryFile;
    process.env.RAP_LOAD_MEMORY_INTERVAL_MS = String(o.memoryIntervalMs);
    const proxy = await startProxyProcess({
      upstreamPort: bed.port, caFile: bed.caCertPath, clusterId: TEST_CLUSTER, region: TEST_REGION,
      awsEndpointUrl: emulator.url, nodeArgs: ['--expose-gc', '--import', REPORTER], extraArgs: o.proxyArgs ?? [],
    });
    stops.push(() => proxy.stop());
    return { bed, emulator, proxy, memoryFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
