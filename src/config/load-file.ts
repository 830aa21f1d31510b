/**
 * Reads a YAML config file into a Config. Every problem is reported as `FILE:LINE: path message`, from the YAML
 * parser (syntax, duplicate keys), the schema (types, ranges, unknown keys) and, through describe(), the shared
 * rules of validate-config.ts — e.g. `proxy.yaml:7: listeners[1].target.duration must be 900–3600`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { DEFAULTS } from './config.js';
import type { Config, ListenerConfig, TargetConfig } from './config.js';
import { fileSchema, targetSchema } from './file-schema.js';
import type { FileConfig, FileListener, FileTarget } from './file-schema.js';
import { parseHttpListen } from './from-flags.js';
import { parseHostPort } from './redshift-endpoint.js';
import type { ConfigField, ConfigProblem, FieldNamer } from './validate-config.js';

export class ConfigFileError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigFileError';
  }
}

export interface LoadedConfigFile {
  readonly file: string;
  readonly config: Config;
  /** Names fields by their key in the file (for sentences about siblings: "cannot be used with withIam"). */
  readonly namer: FieldNamer;
  /** A validate-config problem as `FILE:LINE: listeners[1].target.dbUser cannot be used with withIam …`. */
  describe(problem: ConfigProblem): string;
}

type Path = ReadonlyArray<PropertyKey>;

/** Where each field of the Config lives in the file, relative to its listener (or to the top for globals). */
const FILE_KEYS: Partial<Record<ConfigField, string>> = {
  'target.upstreamHost': 'target.upstream', 'target.upstreamPort': 'target.upstream',
  'target.durationSeconds': 'target.duration', 'target.assumeRoleArn': 'target.assumeRole',
  'listener.maxConnections': 'maxConnections', startupTimeoutMs: 'startupTimeout', connectTimeoutMs: 'connectTimeout',
  shutdownGraceMs: 'shutdownGrace', idleReleaseMs: 'idleRelease', signInWaitMs: 'signInWait', warmIdleMs: 'warmIdle',
};
const fileKey = (field: ConfigField): string => FILE_KEYS[field] ?? field;

export function formatPath(p: Path): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i > 0 ? '.' : ''}${String(s)}`)).join('');
}

/**
 * The 1-based line of the node at `p` (the key's line for a map entry). When `p` does not exist (a required key
 * that is missing), the line of the mapping that lacks it; undefined when that is the whole document, which has
 * no line of its own (its first line holds some other key).
 */
function lineOf(doc: Document, lines: LineCounter, p: Path): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === seg);
      if (!pair) break;
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!item) break;
      offset = (item as { range?: [number, number, number] }).range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : `a ${issue.expected}`}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    default:
      return undefined;
  }
}

/** One line per problem: an unknown key is reported at that key, the rest at their path. */
function schemaProblems(error: z.ZodError, at: (p: Path) => string): string[] {
  const out: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(`${at([...issue.path, key])} ${formatPath([...issue.path, key])} is not a setting here`);
    } else {
      out.push(`${at(issue.path)} ${issue.path.length > 0 ? `${formatPath(issue.path)} ` : ''}${issue.message}`);
    }
  }
  return out;
}

function targetFromFile(t: FileTarget, baseDir: string): TargetConfig {
  const upstream = t.upstream !== undefined ? parseHostPort(t.upstream) : undefined;
  return {
    upstreamHost: upstream?.host,
    upstreamPort: upstream?.port ?? 5439,
    clusterId: t.clusterId,
    workgroup: t.workgroup,
    customDomain: t.customDomain,
    region: t.region,
    dbUser: t.dbUser,
    dbName: t.dbName,
    dbGroups: t.dbGroups ?? [],
    autoCreate: t.autoCreate ?? false,
    durationSeconds: t.duration,
    withIam: t.withIam ?? false,
    profile: t.profile,
    assumeRoleArn: t.assumeRole,
    externalId: t.externalId,
    roleSessionName: t.roleSessionName,
    awsEndpointUrl: t.awsEndpointUrl,
    caFile: t.caFile !== undefined ? path.resolve(baseDir, t.caFile) : undefined,
    allowedUsers: t.allowedUsers,
    users: t.users,
    idcIssuerUrl: t.idcIssuerUrl,
    idcRegion: t.idcRegion,
    idcNamespace: t.idcNamespace,
    idcDisplayName: t.idcDisplayName,
    idcTokenCommand: t.idcTokenCommand,
    dbUserFromIdentity: t.dbUserFromIdentity,
  };
}

function listenerFromFile(l: FileListener & { target: FileTarget }, baseDir: string): ListenerConfig {
  const listen = l.listen === undefined ? parseHostPort(DEFAULTS.listen)
    : typeof l.listen === 'number' ? { host: '127.0.0.1', port: l.listen } : parseHostPort(l.listen);
  const file = (f: string | undefined): string | undefined => (f !== undefined ? path.resolve(baseDir, f) : undefined);
  return { name: l.name, ...listen, unixSocket: l.unixSocket, maxConnections: l.maxConnections,
    clientAuth: l.clientAuth ? { password: l.clientAuth.password, passwordFile: file(l.clientAuth.passwordFile), caFile: file(l.clientAuth.caFile) } : undefined,
    clientTls: l.clientTls ? { certFile: file(l.clientTls.cert) as string, keyFile: file(l.clientTls.key) as string, require: l.clientTls.require ?? false } : undefined,
    target: targetFromFile(l.target, baseDir) };
}

/** The target keys of the top level: every listener's defaults. */
const TARGET_KEYS = Object.keys(targetSchema.shape) as Array<keyof FileTarget>;

/** A listener with the top level's defaults under what it sets itself (listener > top level). */
function withDefaults(l: FileListener, f: FileConfig): FileListener & { target: FileTarget } {
  const top = Object.fromEntries(TARGET_KEYS.filter((k) => f[k] !== undefined).map((k) => [k, f[k]])) as FileTarget;
  return { ...l, clientAuth: l.clientAuth ?? f.clientAuth, clientTls: l.clientTls ?? f.clientTls, target: { ...top, ...l.target } };
}

function configFromFile(f: FileConfig, baseDir: string): Config {
  const ms = (s: number | undefined): number | undefined => (s !== undefined ? s * 1000 : undefined);
  return {
    listeners: f.listeners.map((l) => listenerFromFile(withDefaults(l, f), baseDir)),
    startupTimeoutMs: ms(f.startupTimeout) ?? DEFAULTS.startupTimeoutMs,
    connectTimeoutMs: ms(f.connectTimeout) ?? DEFAULTS.connectTimeoutMs,
    maxStartupPacket: DEFAULTS.maxStartupPacket,
    logLevel: f.logLevel ?? DEFAULTS.logLevel,
    logFormat: f.logFormat,
    shutdownGraceMs: ms(f.shutdownGrace),
    maxConnections: f.maxConnections,
    idleReleaseMs: ms(f.idleRelease),
    maxUpstreamConnections: f.maxUpstreamConnections,
    warmTotal: f.warmTotal,
    warmIdleMs: ms(f.warmIdle),
    allowPlaintextNetwork: f.allowPlaintextNetwork,
    httpTokenFile: f.httpTokenFile !== undefined ? path.resolve(baseDir, f.httpTokenFile) : undefined,
    httpListen: f.httpListen === undefined ? undefined : parseHttpListen(String(f.httpListen)),
    signInWaitMs: ms(f.signInWait),
    noBrowser: f.noBrowser,
    signInPort: f.signInPort,
    ssoStartUrl: f.ssoStartUrl,
    ssoRegion: f.ssoRegion,
    exitZeroOnSigterm: f.exitZeroOnSigterm,
    lazyRefresh: f.lazyRefresh,
    heal: f.heal,
    warm: f.warm,
  };
}

/** Parses config text; `file` names it in messages and anchors relative paths. Throws ConfigFileError. */
export function parseConfigFile(source: string, file: string): LoadedConfigFile {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: true, merge: true });
  const name = path.basename(file);
  if (doc.errors.length > 0) {
    throw new ConfigFileError(doc.errors.map((e) => {
      const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      return `${name}:${e.linePos?.[0].line ?? 1}: ${first}`;
    }));
  }
  const at = (p: Path): string => {
    const line = lineOf(doc, lines, p);
    return line === undefined ? `${name}:` : `${name}:${line}:`;
  };
  const parsed = fileSchema.safeParse(doc.toJS() ?? {}, { error: issueMessage });
  if (!parsed.success) throw new ConfigFileError(schemaProblems(parsed.error, at));
  const config = configFromFile(parsed.data, path.dirname(path.resolve(file)));
  const namer: FieldNamer = (field) => fileKey(field).split('.').pop() as string;
  return {
    file,
    config,
    namer,
    describe(problem) {
      const key = problem.field ? fileKey(problem.field).split('.') : [];
      let p: PropertyKey[] = problem.listener !== undefined ? ['listeners', problem.listener, ...key] : key;
      // A listener's value that came from the top level is reported where it is written.
      const topKey = key[0] === 'target' ? key.slice(1) : key;
      if (problem.listener !== undefined && key.length > 0 && !doc.hasIn(p) && topKey.length > 0 && doc.hasIn(topKey)) p = topKey;
      return `${at(p)} ${p.length > 0 ? `${formatPath(p)} ` : ''}${problem.message}`;
    },
  };
}

export function loadConfigFile(file: string): LoadedConfigFile {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigFileError([`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfigFile(source, file);
}
