/**
 * Every file in config/ is loaded and validated the way the proxy would read it: a proxy config file as is; in a
 * Kubernetes manifest, each proxy container's args and env (and the ConfigMap its --config names); in a compose
 * file, the proxy service's command and REDSHIFT_AUTH_PROXY_* environment, with the clients sharing its network
 * namespace. The examples written for issue 5 get a few more checks of their own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildParser } from '../../src/cli.js';
import type { Flags } from '../../src/config/from-flags.js';
import { parseConfigFile } from '../../src/config/load-file.js';
import type { LoadedConfigFile } from '../../src/config/load-file.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { findProblems, isLoopback } from '../../src/config/validate-config.js';

const DIR = 'config';

function valid(text: string, name: string): LoadedConfigFile {
  const loaded = parseConfigFile(text, path.join(DIR, name));
  expect(findProblems(loaded.config, loaded.namer).map((p) => loaded.describe(p))).toEqual([]);
  // Off loopback only with client authentication (findProblems insists too; this keeps an example from relying on it).
  for (const l of loaded.config.listeners) if (l.unixSocket === undefined) expect(isLoopback(l.host) || l.clientAuth !== undefined).toBe(true);
  return loaded;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? v as Obj : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Resolves flags and REDSHIFT_AUTH_PROXY_* variables as the executable would (a --config path is read via `files`). */
async function resolveFlags(args: string[], env: Obj, files: Map<string, string>): Promise<void> {
  const saved = { ...process.env };
  try {
    for (const [k, v] of Object.entries(env)) process.env[k] = String(v);
    const flags = (await buildParser(args).parseAsync()) as Flags & { config?: string };
    if (flags.config !== undefined) {
      const text = files.get(flags.config);
      expect(text, `${flags.config} is provided by the example`).toBeDefined();
      valid(text as string, path.basename(flags.config));
      return;
    }
    const r = resolveConfig(flags);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    for (const l of r.config.listeners) if (l.unixSocket === undefined) expect(isLoopback(l.host)).toBe(true);
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const isProxyImage = (c: Obj): boolean => /redshift-auth-proxy/.test(String(c.image ?? '')) || obj(c.build).dockerfile === 'Dockerfile';

/** Every proxy container of a manifest, with the files its ConfigMap volumes provide. */
async function checkManifest(text: string): Promise<number> {
  const docs = parseAllDocuments(text).map((d) => obj(d.toJS()));
  const configMaps = new Map(docs.filter((d) => d.kind === 'ConfigMap').map((d) => [obj(d.metadata).name, obj(d.data)]));
  let proxies = 0;
  for (const d of docs.filter((x) => ['Deployment', 'StatefulSet', 'Job', 'Pod'].includes(String(x.kind)))) {
    const spec = d.kind === 'Pod' ? obj(d.spec) : obj(obj(obj(d.spec).template).spec);
    for (const c of [...arr(spec.initContainers), ...arr(spec.containers)].map(obj).filter(isProxyImage)) {
      proxies++;
      const files = new Map<string, string>();
      for (const m of arr(c.volumeMounts).map(obj)) {
        const data = configMaps.get(obj(obj(arr(spec.volumes).map(obj).find((v) => v.name === m.name)).configMap).name);
        for (const [k, v] of Object.entries(data ?? {})) files.set(`${String(m.mountPath)}/${k}`, String(v));
      }
      const env = Object.fromEntries(arr(c.env).map(obj).map((e) => [String(e.name), e.value]));
      await resolveFlags(arr(c.args).map(String), env, files);
    }
  }
  return proxies;
}

/** The proxy services of a compose file; every other service must share a proxy's network namespace. */
async function checkCompose(compose: Obj): Promise<number> {
  const services = Object.entries(obj(compose.services)).map(([name, v]) => [name, obj(v)] as const);
  const proxies = services.filter(([, s]) => isProxyImage(s));
  for (const [, s] of proxies) await resolveFlags(arr(s.command).map(String), obj(s.environment), new Map());
  for (const [name, s] of services.filter(([, x]) => !isProxyImage(x))) {
    expect(proxies.map(([n]) => `service:${n}`), `${name}'s network_mode`).toContain(s.network_mode);
  }
  return proxies.length;
}

describe('config/ examples', () => {
  for (const name of readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    it(`${name} is a valid proxy configuration`, async () => {
      const text = readFileSync(path.join(DIR, name), 'utf8');
      const first = obj(parseAllDocuments(text)[0]?.toJS());
      if ('listeners' in first) valid(text, name);
      else if ('services' in first) expect(await checkCompose(first)).toBeGreaterThan(0);
      else expect(await checkManifest(text)).toBeGreaterThan(0);
    });
  }

  it('laptop.yaml: two clusters and a Serverless workgroup on three loopback ports', () => {
    const { config } = valid(readFileSync(path.join(DIR, 'laptop.yaml'), 'utf8'), 'laptop.yaml');
    expect(config.listeners.map((l) => l.port)).toEqual([5439, 5440, 5441]);
    expect(config.listeners.filter((l) => l.target.workgroup)).toHaveLength(1);
    expect(config.listeners.filter((l) => !l.target.workgroup)).toHaveLength(2);
    expect(config.httpListen).toEqual({ host: '127.0.0.1', port: 9090 });
  });

  it('kubernetes-sidecar.yaml: the ConfigMap\'s proxy config, mounted where the sidecar reads it, probes on its port', () => {
    const docs = parseAllDocuments(readFileSync(path.join(DIR, 'kubernetes-sidecar.yaml'), 'utf8')).map((d) => obj(d.toJS()));
    const configMap = docs.find((d) => d.kind === 'ConfigMap');
    const proxyYaml = obj(obj(configMap).data)['proxy.yaml'];
    expect(typeof proxyYaml).toBe('string');
    const { config } = valid(proxyYaml as string, 'proxy.yaml');
    const spec = obj(obj(obj(obj(docs.find((d) => d.kind === 'Deployment')).spec).template).spec);
    const proxy = obj(arr(spec.initContainers).find((c) => obj(c).name === 'redshift-auth-proxy'));
    expect(proxy.restartPolicy).toBe('Always');
    const args = arr(proxy.args) as string[];
    const mount = obj(arr(proxy.volumeMounts)[0]);
    expect(args).toEqual(['--config', `${String(mount.mountPath)}/proxy.yaml`]);
    const volume = obj(arr(spec.volumes).find((v) => obj(v).name === mount.name));
    expect(obj(volume.configMap).name).toBe(obj(obj(configMap).metadata).name);
    expect(arr(spec.containers).map((c) => obj(c).name)).toContain('metabase');
    expect(config.httpListen?.port).toBe(9090);
    expect(obj(obj(proxy.readinessProbe).httpGet).path).toBe('/readyz');
    expect(obj(obj(proxy.livenessProbe).httpGet).path).toBe('/healthz');
    expect(Number(obj(spec).terminationGracePeriodSeconds) * 1000).toBeGreaterThan(config.shutdownGraceMs ?? 30_000);
  });

  it('kubernetes-job-sidecar.yaml: a native sidecar whose startup probe is /readyz, exiting 0 on SIGTERM', () => {
    const docs = parseAllDocuments(readFileSync(path.join(DIR, 'kubernetes-job-sidecar.yaml'), 'utf8')).map((d) => obj(d.toJS()));
    const spec = obj(obj(obj(obj(docs.find((d) => d.kind === 'Job')).spec).template).spec);
    const proxy = obj(arr(spec.initContainers).find((c) => obj(c).name === 'redshift-auth-proxy'));
    expect(proxy.restartPolicy).toBe('Always');
    expect(obj(obj(proxy.startupProbe).httpGet).path).toBe('/readyz');
    expect(arr(proxy.args)).toContain('--exit-zero-on-sigterm');
    const grace = Number(arr(proxy.args)[arr(proxy.args).indexOf('--shutdown-grace') + 1]);
    expect(Number(spec.terminationGracePeriodSeconds)).toBeGreaterThan(grace);
    expect(obj(obj(proxy.resources).requests).memory).toBe('192Mi');
  });

  it('kubernetes-shared.yaml: replicas behind a PodDisruptionBudget, authenticated TLS clients, grace within the pod\'s', () => {
    const docs = parseAllDocuments(readFileSync(path.join(DIR, 'kubernetes-shared.yaml'), 'utf8')).map((d) => obj(d.toJS()));
    const deployment = obj(docs.find((d) => d.kind === 'Deployment'));
    const labels = obj(obj(obj(obj(deployment.spec).template).metadata).labels);
    const pdb = obj(docs.find((d) => d.kind === 'PodDisruptionBudget'));
    expect(obj(obj(pdb.spec).selector).matchLabels).toEqual(labels);
    expect(Number(obj(pdb.spec).minAvailable)).toBeLessThan(Number(obj(deployment.spec).replicas));
    const { config } = valid(String(obj(obj(docs.find((d) => d.kind === 'ConfigMap')).data)['proxy.yaml']), 'proxy.yaml');
    expect(config.listeners[0]?.clientTls?.require).toBe(true);
    const spec = obj(obj(obj(deployment.spec).template).spec);
    expect(Number(spec.terminationGracePeriodSeconds) * 1000).toBeGreaterThan(config.shutdownGraceMs ?? 30_000);
    const proxy = obj(arr(spec.containers)[0]);
    expect(obj(obj(proxy.startupProbe).httpGet).path).toBe('/readyz');
    expect(obj(obj(proxy.resources).requests).memory).toBe('192Mi');
  });

  it('docker-compose.yaml: Metabase shares the network of the proxy, configured by environment', () => {
    const compose = obj(parse(readFileSync(path.join(DIR, 'docker-compose.yaml'), 'utf8')));
    const services = obj(compose.services);
    const proxy = obj(services.proxy);
    expect(obj(services.metabase).network_mode).toBe('service:proxy');
    expect(obj(proxy.environment).REDSHIFT_AUTH_PROXY_DB_USER).toBe('metabase');
    expect(arr(proxy.command)).toEqual(['--listen', '127.0.0.1:5439']);
  });
});

describe('the image the examples run', () => {
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  /** docs/PERFORMANCE.md, `node dist/scripts/measure-rss.js 200 20` on Node 24 (the image's Node): idle and peak RSS. */
  const MEASURED_IDLE_MB = 99;
  const MEASURED_PEAK_MB = 208;
  const mebibytes = (q: unknown): number => {
    const m = /^(\d+)(Mi|Gi)$/.exec(String(q));
    return m ? Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1) * 1.048576 : Number.NaN;
  };

  it('is one name everywhere, redshift-auth-proxy:<package version>; compose files build it from the Dockerfile', () => {
    let seen = 0;
    for (const name of readdirSync(DIR).filter((n) => /\.ya?ml$/.test(n))) {
      for (const doc of parseAllDocuments(readFileSync(path.join(DIR, name), 'utf8')).map((d) => obj(d.toJS()))) {
        const services = Object.values(obj(doc.services)).map(obj);
        const spec = doc.kind === 'Pod' ? obj(doc.spec) : obj(obj(obj(doc.spec).template).spec);
        const containers = [...arr(spec.initContainers), ...arr(spec.containers)].map(obj);
        for (const c of [...services, ...containers].filter(isProxyImage)) {
          seen++;
          expect(c.image, name).toBe(`redshift-auth-proxy:${version}`);
          if (services.includes(c)) expect(obj(c.build), name).toEqual({ context: '..', dockerfile: 'Dockerfile' });
        }
      }
    }
    expect(seen).toBeGreaterThanOrEqual(4);
  });

  it('requests memory for the measured idle RSS and limits above the measured peak', () => {
    let seen = 0;
    for (const name of readdirSync(DIR).filter((n) => /\.ya?ml$/.test(n))) {
      for (const doc of parseAllDocuments(readFileSync(path.join(DIR, name), 'utf8')).map((d) => obj(d.toJS()))) {
        const spec = obj(obj(obj(doc.spec).template).spec);
        for (const c of [...arr(spec.initContainers), ...arr(spec.containers)].map(obj).filter(isProxyImage)) {
          seen++;
          const resources = obj(c.resources);
          expect(mebibytes(obj(resources.requests).memory) / 1.25, `${name} request`).toBeGreaterThanOrEqual(MEASURED_IDLE_MB);
          expect(mebibytes(obj(resources.limits).memory) / 1.5, `${name} limit`).toBeGreaterThanOrEqual(MEASURED_PEAK_MB);
        }
      }
    }
    expect(seen).toBeGreaterThanOrEqual(2);
  });
});
