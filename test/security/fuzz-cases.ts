/**
 * What the fuzz test throws at the front door, as fast-check arbitraries.
 *
 * Two families of cases, each on its own TCP connection:
 * - front: a sequence of startup-phase packets — StartupMessage, SSLRequest, GSSENCRequest, CancelRequest, random
 *   bytes — each built correctly by hand and then (usually) mutated: bits flipped, truncated, length word changed,
 *   NULs removed, bytes inserted, request code replaced, repeated, declared huge. The bytes are split at random
 *   points (sometimes with a pause between pieces, so they arrive as separate reads), and the client then waits
 *   for the answer, half-closes, or resets.
 * - post: a correct login as `fuzzpost`, then typed frames — valid SQL the session tracker must follow, extended
 *   protocol messages, frames of every type with random bodies and lying length words, raw garbage, startup packets
 *   out of place, cancels of its own key and of random keys.
 *
 * Every value is built here from bytes, never with the proxy's own message builders.
 */
import fc from 'fast-check';
import { cancelRequest, Code, cstr, extendedQuery, GSSENC_REQUEST, int32, query, SSL_REQUEST, startupMessage, TERMINATE, typed } from './wire.js';

/** The user every post-login case logs in as (front cases never generate it, so their password churn cannot hit it). */
export const POST_USER = 'fuzzpost';

export type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'length'; readonly value: number }
  | { readonly op: 'length-delta'; readonly delta: number }
  | { readonly op: 'drop-nuls' }
  | { readonly op: 'drop-last-nul' }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'overwrite'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'code'; readonly value: number }
  | { readonly op: 'repeat'; readonly times: number }
  | { readonly op: 'huge'; readonly declared: number; readonly sent: number };

export interface FrontCase {
  readonly kind: 'front';
  /** What each packet was before mutation, for the report. */
  readonly labels: readonly string[];
  readonly bytes: Buffer;
  /** Offsets at which the bytes are cut into separate writes. */
  readonly splits: readonly number[];
  /** Wait a millisecond between writes so that they arrive as separate reads. */
  readonly pauses: boolean;
  /** After writing: wait for the answer, half-close (FIN), or reset (RST). */
  readonly end: 'wait' | 'half-close' | 'reset';
}

export type PostAction =
  | { readonly do: 'send'; readonly label: string; readonly bytes: Buffer }
  | { readonly do: 'cancel-own' }
  | { readonly do: 'cancel-random'; readonly processId: number; readonly secretKey: number }
  | { readonly do: 'pause'; readonly ms: number };

export interface PostCase {
  readonly kind: 'post';
  readonly actions: readonly PostAction[];
  /** End by closing (FIN) or by a reset (RST) while the session may still be busy. */
  readonly end: 'close' | 'reset';
}

export type FuzzCase = FrontCase | PostCase;

export function applyMutation(packet: Buffer, m: Mutation): Buffer {
  const at = (n: number): number => (packet.length === 0 ? 0 : n % packet.length);
  switch (m.op) {
    case 'flip': {
      if (packet.length === 0) return packet;
      const out = Buffer.from(packet);
      const i = at(m.at);
      out[i] = (out[i] as number) ^ (1 << m.bit);
      return out;
    }
    case 'truncate':
      return packet.subarray(0, at(m.at));
    case 'length':
      return packet.length < 4 ? packet : Buffer.concat([int32(m.value), packet.subarray(4)]);
    case 'length-delta':
      return packet.length < 4 ? packet : Buffer.concat([int32(packet.readInt32BE(0) + m.delta), packet.subarray(4)]);
    case 'drop-nuls':
      return Buffer.concat([packet.subarray(0, 8), Buffer.from(packet.subarray(8).filter((b) => b !== 0))]);
    case 'drop-last-nul':
      return packet.length > 0 && packet[packet.length - 1] === 0 ? packet.subarray(0, packet.length - 1) : packet;
    case 'insert': {
      const i = at(m.at);
      return Buffer.concat([packet.subarray(0, i), m.bytes, packet.subarray(i)]);
    }
    case 'overwrite': {
      const out = Buffer.from(packet);
      Buffer.from(m.bytes).copy(out, at(m.at));
      return out;
    }
    case 'code':
      return packet.length < 8 ? packet : Buffer.concat([packet.subarray(0, 4), int32(m.value), packet.subarray(8)]);
    case 'repeat':
      return Buffer.concat(Array.from({ length: m.times }, () => packet));
    case 'huge':
      return Buffer.concat([int32(m.declared), packet.subarray(4), Buffer.alloc(m.sent, 0x61)]);
    default:
      throw new Error(`unknown mutation ${JSON.stringify(m satisfies never)}`);
  }
}

const bytes = (max: number, min = 0): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));

/** Lengths a parser must be careful with: below the minimum, at and around the limit, negative, enormous. */
const interestingLength = fc.oneof(
  fc.constantFrom(0, 1, 3, 4, 7, 8, 9, 12, 16, 9_999, 10_000, 10_001, 10_240, 65_536, 1 << 20, 0x7fff_ffff, -1, -8, 0x8000_0000 | 0),
  fc.integer(),
);

const requestCode = fc.oneof(
  fc.constantFrom(Code.Protocol3, Code.SSLRequest, Code.GSSENCRequest, Code.CancelRequest, 0x0003_0001, 0x0003_ffff,
    0x0002_0000, 0x0004_0000, 0, -1, 0x04d2_1631, 0x04d2_162d),
  fc.integer(),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('length' as const), value: interestingLength }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('length-delta' as const), delta: fc.integer({ min: -12, max: 12 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'drop-nuls' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'drop-last-nul' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('code' as const), value: requestCode }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('repeat' as const), times: fc.integer({ min: 2, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('huge' as const), declared: interestingLength, sent: fc.nat({ max: 12_000 }) }) },
);

const paramName = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('user', 'database', 'application_name', 'options', 'client_encoding', 'replication',
    '_pq_.compression', 'DateStyle', 'search_path', 'TimeZone', 'extra_float_digits', 'datestyle', 'USER') },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\0')) },
);

const paramValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('', 'dev', 'fuzz', 'true', 'database', 'on', 'UTF8', 'SQL_ASCII', 'ISO, MDY', '-c work_mem=64kB',
    '-c statement_timeout=1', 'x') },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !s.includes('\0')) },
  { weight: 1, arbitrary: fc.nat({ max: 12_000 }).map((n) => 'v'.repeat(n)) },
);

/** The user of a front case: mostly two fixed names (cached credentials), sometimes anything at all. */
const frontUser = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('fuzz', 'fuzz2') },
  { weight: 1, arbitrary: fc.string({ maxLength: 70 }).filter((s) => !s.includes('\0') && s !== POST_USER) },
);

const startupPacket = fc.record({
  version: fc.oneof({ weight: 8, arbitrary: fc.constant<number>(Code.Protocol3) }, { weight: 2, arbitrary: requestCode }),
  user: fc.option(frontUser, { freq: 8 }),
  database: fc.option(fc.oneof({ weight: 6, arbitrary: fc.constant('dev') }, { weight: 1, arbitrary: paramValue }), { freq: 3 }),
  extra: fc.array(fc.tuple(paramName, paramValue), { maxLength: 4 }),
}).map(({ version, user, database, extra }) => {
  const params: Array<[string, string]> = [];
  if (user !== null) params.push(['user', user]);
  if (database !== null) params.push(['database', database]);
  params.push(...extra);
  return { label: `startup(${version.toString(16)}, ${params.length} params)`, bytes: startupMessage(params, version) };
});

const packet: fc.Arbitrary<{ label: string; bytes: Buffer }> = fc.oneof(
  { weight: 6, arbitrary: startupPacket },
  { weight: 2, arbitrary: fc.constant({ label: 'ssl', bytes: SSL_REQUEST }) },
  { weight: 1, arbitrary: fc.constant({ label: 'gssenc', bytes: GSSENC_REQUEST }) },
  { weight: 2, arbitrary: fc.tuple(fc.integer(), fc.integer()).map(([p, s]) => ({ label: 'cancel', bytes: cancelRequest(p, s) })) },
  { weight: 2, arbitrary: bytes(64, 1).map((b) => ({ label: 'random', bytes: b })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.nat({ max: 30_000 }))
    .map(([b, n]) => ({ label: `fill(${n})`, bytes: Buffer.alloc(n, b) })) },
);

const mutatedPacket = fc.tuple(packet, fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }))
  .map(([p, ms]) => ({
    label: ms.length === 0 ? p.label : `${p.label}+${ms.map((m) => m.op).join('+')}`,
    bytes: ms.reduce((b, m) => applyMutation(b, m), p.bytes),
  }));

export const frontCase: fc.Arbitrary<FrontCase> = fc.record({
  packets: fc.array(mutatedPacket, { minLength: 1, maxLength: 4 }),
  splits: fc.array(fc.nat(), { maxLength: 4 }),
  pauses: fc.boolean(),
  end: fc.oneof({ weight: 6, arbitrary: fc.constant('wait' as const) }, { weight: 1, arbitrary: fc.constant('half-close' as const) },
    { weight: 1, arbitrary: fc.constant('reset' as const) }),
}).map(({ packets, splits, pauses, end }) => {
  const all = Buffer.concat(packets.map((p) => p.bytes));
  const cuts = [...new Set(splits.map((s) => (all.length === 0 ? 0 : s % all.length)))].sort((a, b) => a - b);
  return { kind: 'front' as const, labels: packets.map((p) => p.label), bytes: all, splits: cuts, pauses, end };
});

/** Statements the session tracker has opinions about, and a few the server will refuse. No secrets, no tokens. */
const SQL = [
  'select 1', 'begin', 'commit', 'rollback', "set application_name = 'fz'", 'reset all', 'set search_path to public',
  'create temp table t(a int)', 'copy t from stdin', 'copy (select generate_series(1, 50)) to stdout', 'listen ch',
  "notify ch, 'x'", 'prepare p1 as select 1', 'execute p1', 'deallocate p1', 'discard all', 'select pg_sleep(0.02)',
  "select repeat('x', 200000)", 'select 1/0', '', ';;;', 'select * from no_such_table', 'declare c cursor with hold for select 1',
  'set role none', 'begin; select 1/0', 'select pg_advisory_lock(1)', 'show all', "select set_config('a.b', 'c', false)",
];

const sql = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SQL) }, { weight: 1, arbitrary: fc.string({ maxLength: 60 }) });

const FRONTEND_TYPES = [...'QPBEDSHCFdcfXp'];

const randomFrame = fc.record({
  type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FRONTEND_TYPES).map((c) => c.charCodeAt(0)) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  body: bytes(64),
  lie: fc.option(interestingLength, { freq: 3 }),
}).map(({ type, body, lie }) => {
  const frame = typed(type, body);
  if (lie !== null) frame.writeInt32BE(lie | 0, 1);
  return { do: 'send' as const, label: `frame(${String.fromCharCode(type)}${lie !== null ? `, len ${lie}` : ''})`, bytes: frame };
});

const postAction: fc.Arbitrary<PostAction> = fc.oneof(
  { weight: 4, arbitrary: sql.map((s) => ({ do: 'send' as const, label: `Q ${s}`, bytes: query(s) })) },
  { weight: 2, arbitrary: sql.map((s) => ({ do: 'send' as const, label: `PBES ${s}`, bytes: extendedQuery(s) })) },
  { weight: 3, arbitrary: randomFrame },
  { weight: 1, arbitrary: bytes(200, 1).map((b) => ({ do: 'send' as const, label: 'garbage', bytes: b })) },
  { weight: 1, arbitrary: bytes(40).map((b) => ({ do: 'send' as const, label: 'copy data', bytes: Buffer.concat([typed('d', b), typed('c')]) })) },
  { weight: 1, arbitrary: fc.constantFrom(
    { do: 'send' as const, label: 'CopyFail', bytes: typed('f', cstr('fuzz')) },
    { do: 'send' as const, label: 'Terminate', bytes: TERMINATE },
    { do: 'send' as const, label: 'SSLRequest after login', bytes: SSL_REQUEST },
    { do: 'send' as const, label: 'StartupMessage after login', bytes: startupMessage([['user', 'other'], ['database', 'dev']]) },
  ) },
  { weight: 1, arbitrary: fc.constant({ do: 'cancel-own' as const }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer(), fc.integer()).map(([processId, secretKey]) => ({ do: 'cancel-random' as const, processId, secretKey })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }).map((ms) => ({ do: 'pause' as const, ms })) },
);

export const postCase: fc.Arbitrary<PostCase> = fc.record({
  actions: fc.array(postAction, { minLength: 1, maxLength: 6 }),
  end: fc.oneof({ weight: 4, arbitrary: fc.constant('close' as const) }, { weight: 1, arbitrary: fc.constant('reset' as const) }),
}).map(({ actions, end }) => ({ kind: 'post' as const, actions, end }));

/** Mostly front-door cases (cheap, refused in milliseconds); one in five logs in first (a login costs ~10x more). */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof({ weight: 4, arbitrary: frontCase }, { weight: 1, arbitrary: postCase });

/** A short, printable description of a case for failure reports (the bytes in hex, cut at 2 KB). */
export function describeCase(c: FuzzCase): string {
  if (c.kind === 'front') {
    const hex = c.bytes.subarray(0, 2048).toString('hex');
    return `front [${c.labels.join(', ')}] ${c.bytes.length} bytes, splits ${JSON.stringify(c.splits)}, pauses ${c.pauses}, ` +
      `end ${c.end}: ${hex}${c.bytes.length > 2048 ? '…' : ''}`;
  }
  return `post [${c.actions.map((a) => (a.do === 'send' ? a.label : a.do)).join(' | ')}] end ${c.end}`;
}
