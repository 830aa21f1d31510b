/**
 * Upstream authentication: every expected byte here is built by hand or computed by an independent tool (the
 * command is in a comment), never by the code under test. The last block drives the exchange against a real
 * PostgreSQL server over a raw socket.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthExchange, UpstreamAuthError } from '../../src/upstream/auth/auth-exchange.js';
import type { AuthExchange, PasswordSecret, TokenSecret } from '../../src/upstream/auth/auth-exchange.js';

// ---- independent byte helpers ------------------------------------------------------------------------------
const int32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const str = (s: string): Buffer => Buffer.from(s, 'utf8');
const cstr = (s: string): Buffer => Buffer.concat([str(s), Buffer.from([0])]);
/** Type byte, then an int32 length that counts itself and the payload but not the type byte. */
const frame = (type: string, ...parts: Buffer[]): Buffer => {
  const payload = Buffer.concat(parts);
  return Buffer.concat([str(type), int32(4 + payload.length), payload]);
};

const SECRET: PasswordSecret = { user: 'IAM:alice', password: 'Tmp!Pa55word' };

/** Runs `fn`, expects an UpstreamAuthError, and checks the password leaks into none of its text. */
function authError(fn: () => unknown, password = SECRET.password): UpstreamAuthError {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  expect(caught).toBeInstanceOf(UpstreamAuthError);
  const err = caught as UpstreamAuthError;
  for (const text of [err.reason, err.message, String(err), err.stack ?? '']) expect(text).not.toContain(password);
  return err;
}

describe('cleartext (code 3)', () => {
  it('sends PasswordMessage: p, length, password, NUL', () => {
    expect(createAuthExchange(SECRET).respond(3, Buffer.alloc(0))).toEqual(frame('p', cstr('Tmp!Pa55word')));
  });
});

describe('md5 (code 5)', () => {
  it('matches an independently computed vector, salt containing a zero byte', () => {
    // python3 -c 'import hashlib;u=b"IAM:alice";p=b"Tmp!Pa55word";s=bytes([0x93,0x1a,0x7f,0x00]);
    //   print("md5"+hashlib.md5(hashlib.md5(p+u).hexdigest().encode()+s).hexdigest())'
    const expected = frame('p', cstr('md55a8629b67e49e4f6e4115188e97bd082'));
    expect(createAuthExchange(SECRET).respond(5, Buffer.from([0x93, 0x1a, 0x7f, 0x00]))).toEqual(expected);
  });
  it('rejects a request with a short salt', () => {
    expect(authError(() => createAuthExchange(SECRET).respond(5, Buffer.from([1, 2]))).reason).toMatch(/malformed/);
  });
});

describe('SCRAM-SHA-256 (codes 10, 11, 12)', () => {
  // RFC 7677 §3 test vector.
  const rfc: PasswordSecret = { user: 'user', password: 'pencil' };
  const clientNonce = 'rOprNGfwEbeRWgbNEkqO';
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
  const clientFinal = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
  const serverFinal = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';
  const mechanisms = (...names: string[]): Buffer => Buffer.concat([...names.map(cstr), Buffer.from([0])]);
  const rfcExchange = (): AuthExchange => createAuthExchange(rfc, { scramNonce: () => clientNonce });
  const upToFinal = (): AuthExchange => {
    const ex = rfcExchange();
    ex.respond(10, mechanisms('SCRAM-SHA-256'));
    ex.respond(11, str(serverFirst));
    return ex;
  };

  it('reproduces the RFC 7677 exchange byte for byte', () => {
    const ex = rfcExchange();
    const first = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
    // SASLInitialResponse: p, length, mechanism C string, int32 length of the client-first-message, the message.
    expect(ex.respond(10, mechanisms('SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256')))
      .toEqual(frame('p', cstr('SCRAM-SHA-256'), int32(first.length), str(first)));
    // SASLResponse: p, length, client-final-message (no NUL, no inner length).
    expect(ex.respond(11, str(serverFirst))).toEqual(frame('p', str(clientFinal)));
    expect(ex.respond(12, str(serverFinal))).toBeNull();
    expect(() => ex.assertComplete()).not.toThrow();
  });

  it('escapes , and = in the user name (RFC 5802 saslname)', () => {
    const ex = createAuthExchange({ user: 'a,b=c', password: 'pencil' }, { scramNonce: () => clientNonce });
    const first = 'n,,n=a=2Cb=3Dc,r=rOprNGfwEbeRWgbNEkqO';
    expect(ex.respond(10, mechanisms('SCRAM-SHA-256'))).toEqual(frame('p', cstr('SCRAM-SHA-256'), int32(first.length), str(first)));
  });

  it('throws when the server signature does not match', () => {
    const wrong = 'v=' + Buffer.alloc(32, 7).toString('base64');
    expect(authError(() => upToFinal().respond(12, str(wrong)), 'pencil').reason).toMatch(/server signature/);
    expect(authError(() => upToFinal().respond(12, str('v=')), 'pencil').reason).toMatch(/server signature/);
    expect(authError(() => upToFinal().respond(12, str('e=invalid-proof')), 'pencil').reason).toMatch(/invalid-proof/);
  });

  it('refuses AuthenticationOk when the server skipped its final message', () => {
    expect(authError(() => upToFinal().assertComplete(), 'pencil').reason).toMatch(/without proving/);
  });

  it('rejects a server that offers only SCRAM-SHA-256-PLUS, with a clear reason', () => {
    const err = authError(() => rfcExchange().respond(10, mechanisms('SCRAM-SHA-256-PLUS')), 'pencil');
    expect(err.reason).toMatch(/channel binding \(SCRAM-SHA-256-PLUS\)/);
  });

  it('rejects a server nonce that does not extend ours, and bad iteration counts', () => {
    const ex = rfcExchange();
    ex.respond(10, mechanisms('SCRAM-SHA-256'));
    expect(authError(() => ex.respond(11, str('r=someoneElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')), 'pencil').reason)
      .toMatch(/nonce/);
    for (const i of ['0', '-1', 'x', '99999999999']) {
      const fresh = rfcExchange();
      fresh.respond(10, mechanisms('SCRAM-SHA-256'));
      authError(() => fresh.respond(11, str(`r=${clientNonce}abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=${i}`)), 'pencil');
    }
  });

  it('rejects steps out of order and a switch of method mid-exchange', () => {
    authError(() => rfcExchange().respond(11, str(serverFirst)), 'pencil');
    authError(() => rfcExchange().respond(12, str(serverFinal)), 'pencil');
    const ex = rfcExchange();
    ex.respond(10, mechanisms('SCRAM-SHA-256'));
    expect(authError(() => ex.respond(3, Buffer.alloc(0)), 'pencil').reason).toMatch(/middle of a SCRAM/);
  });
});

describe('Redshift SHA-256 digest (code 13)', () => {
  const salt = Buffer.from([0x00, 0x11, 0xfe, 0x7a, 0x42, 0x13]);
  const serverNonce = str('srv-nonce-0123456789');
  /** Body after the code, built by hand: int32 algorithm, int32 + salt, int32 + server nonce. */
  const request = (algorithm: number): Buffer =>
    Buffer.concat([int32(algorithm), int32(salt.length), salt, int32(serverNonce.length), serverNonce]);

  it('matches an independently computed digest and framing', () => {
    // python3 -c 'import hashlib;p=b"Tmp!Pa55word";salt=bytes([0,0x11,0xfe,0x7a,0x42,0x13]);
    //   sn=b"srv-nonce-0123456789";cn=b"1700000000123";
    //   print(hashlib.sha256(hashlib.sha256(p+salt).digest()+sn+cn).hexdigest())'
    const digest = Buffer.from('d0d02c25c588f4318ca5b9dd900e7fe22fbce96adf0dcb62a5a2d25b367f2fc3', 'hex');
    const clientNonce = str('1700000000123');
    const expected = Buffer.concat([str('d'), int32(4 + 4 + 32 + 4 + 13), int32(32), digest, int32(13), clientNonce]);
    expect(createAuthExchange(SECRET, { now: () => 1_700_000_000_123 }).respond(13, request(0))).toEqual(expected);
  });

  it('rejects algorithms other than SHA-256 and truncated requests', () => {
    expect(authError(() => createAuthExchange(SECRET).respond(13, request(1))).reason).toMatch(/algorithm 1/);
    const full = request(0);
    for (const cut of [0, 3, 7, 10, full.length - 1]) {
      expect(authError(() => createAuthExchange(SECRET).respond(13, full.subarray(0, cut))).reason).toMatch(/malformed/);
    }
  });
});

describe('IAM Identity Center token (code 14, AUTH_REQ_IDP)', () => {
  const TOKEN = 'aoaAAAAAGk-idc.access.token/with+base64=';
  const tokenSecret: TokenSecret = { token: () => TOKEN };

  it("answers with 'i', a length counting itself, the token and its NUL, as the JDBC driver sends it", () => {
    // ConnectionFactoryImpl.doAuthentication: sendChar('i'); sendInteger4(4 + token.length + 1); send(token); sendChar(0)
    const expected = Buffer.concat([str('i'), int32(4 + TOKEN.length + 1), str(TOKEN), Buffer.from([0])]);
    expect(createAuthExchange(tokenSecret).respond(14, Buffer.alloc(0))).toEqual(expected);
  });

  it('reads the token only when Redshift asks for it, and only once', () => {
    let reads = 0;
    const exchange = createAuthExchange({ token: () => { reads++; return TOKEN; } });
    expect(reads).toBe(0);
    exchange.respond(14, Buffer.alloc(0));
    expect(reads).toBe(1);
    expect(authError(() => exchange.respond(14, Buffer.alloc(0)), TOKEN).reason).toMatch(/twice/);
  });

  it.each([3, 5, 10, 13])('never answers a password request (code %i) with the token', (code) => {
    const err = authError(() => createAuthExchange(tokenSecret).respond(code, Buffer.alloc(0)), TOKEN);
    expect(err.reason).toMatch(/asked for a password .* instead of an IAM Identity Center token.*not sent/);
  });

  it('refuses an empty token or one with a NUL, without echoing it', () => {
    expect(authError(() => createAuthExchange({ token: () => '' }).respond(14, Buffer.alloc(0))).reason).toMatch(/empty/);
    expect(authError(() => createAuthExchange({ token: () => 'ab\0cd' }).respond(14, Buffer.alloc(0)), 'ab\0cd').reason)
      .toMatch(/NUL/);
  });

  it('a password listener asked for a token says how to log in with Identity Center', () => {
    const err = authError(() => createAuthExchange(SECRET).respond(14, Buffer.alloc(0)));
    expect(err.reason).toMatch(/identity-provider token \(code 14.*--idc-issuer-url/);
  });
});

describe('unsupported methods', () => {
  it.each([[2, /Kerberos/], [7, /GSSAPI/], [8, /GSSAPI/], [9, /SSPI/], [6, /SCM/], [42, /code 42/]])(
    'code %i throws a readable UpstreamAuthError', (code, name) => {
      const err = authError(() => createAuthExchange(SECRET).respond(code, Buffer.alloc(0)));
      expect(err.reason).toMatch(/^Redshift asked for authentication method .*which the proxy does not support/);
      expect(err.reason).toMatch(name);
    });
});

// ---- a throwaway PostgreSQL 15, driven over a raw socket -------------------------------------------------------
const PG_BIN = '/usr/lib/postgresql/15/bin';

interface Pg { readonly port: number; readonly dir: string; readonly child: ChildProcess }

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function startPostgres(): Promise<Pg> {
  // PostgreSQL refuses to run as root: drop to the postgres OS user then.
  const asUser = userInfo().uid === 0 ? readIds('postgres') : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'auth-test-pg-'));
  if (asUser) chownSync(dir, asUser.uid, asUser.gid);
  const run = (cmd: string, args: string[]): void => {
    const r = spawnSync(join(PG_BIN, cmd), args, { ...asUser, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  // Most specific lines first: md5 and cleartext roles, then SCRAM for everyone else over TCP.
  writeFileSync(join(data, 'pg_hba.conf'), ['local all all trust', 'host all md5_user 127.0.0.1/32 md5',
    'host all clear_user 127.0.0.1/32 password', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n'));
  const port = await freePort();
  const child = spawn(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'password_encryption=scram-sha-256', '-c', 'fsync=off'],
  { ...asUser, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${log}`)));
  });
  run('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c',
    "CREATE ROLE scram_user LOGIN PASSWORD 'Sc,ram=Pass!1'; CREATE ROLE clear_user LOGIN PASSWORD 'Clear-Pass-2';"
    + " SET password_encryption = 'md5'; CREATE ROLE md5_user LOGIN PASSWORD 'Md5-Pass-3';"]);
  return { port, dir, child };
}

function readIds(name: string): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

/** Hand-built StartupMessage, then feeds every 'R' to the exchange until ReadyForQuery ('Z') or ErrorResponse. */
async function loginOverSocket(port: number, secret: PasswordSecret): Promise<{ codes: number[]; error?: string }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const body = Buffer.concat([int32(196608), cstr('user'), cstr(secret.user), cstr('database'), cstr('postgres'), Buffer.from([0])]);
  socket.write(Buffer.concat([int32(4 + body.length), body]));
  const exchange = createAuthExchange(secret);
  const codes: number[] = [];
  let pending = Buffer.alloc(0);
  try {
    for await (const chunk of socket) {
      pending = Buffer.concat([pending, chunk as Buffer]);
      while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
        const type = String.fromCharCode(pending[0] ?? 0);
        const msg = pending.subarray(5, 1 + pending.readInt32BE(1));
        pending = pending.subarray(1 + pending.readInt32BE(1));
        if (type === 'E') return { codes, error: msg.toString('utf8') };
        if (type === 'Z') return { codes };
        if (type !== 'R') continue;
        const code = msg.readInt32BE(0);
        codes.push(code);
        if (code === 0) { exchange.assertComplete(); continue; }
        const answer = exchange.respond(code, msg.subarray(4));
        if (answer) socket.write(answer);
      }
    }
    throw new Error('server closed the connection during login');
  } finally {
    socket.destroy();
  }
}

describe('against a real PostgreSQL 15', () => {
  let pg: Pg | undefined;
  beforeAll(async () => { pg = await startPostgres(); });
  afterAll(async () => {
    if (pg && pg.child.exitCode === null) {
      pg.child.kill('SIGINT'); // fast shutdown
      await once(pg.child, 'exit');
    }
    if (pg) rmSync(pg.dir, { recursive: true, force: true });
  });
  const port = (): number => { if (!pg) throw new Error('postgres did not start'); return pg.port; };

  it('logs in with SCRAM-SHA-256 and verifies the server signature (password with , and =)', async () => {
    expect(await loginOverSocket(port(), { user: 'scram_user', password: 'Sc,ram=Pass!1' })).toEqual({ codes: [10, 11, 12, 0] });
  });
  it('logs in with md5 and cleartext', async () => {
    expect(await loginOverSocket(port(), { user: 'md5_user', password: 'Md5-Pass-3' })).toEqual({ codes: [5, 0] });
    expect(await loginOverSocket(port(), { user: 'clear_user', password: 'Clear-Pass-2' })).toEqual({ codes: [3, 0] });
  });
  it('is refused by the server with a wrong password (SQLSTATE 28P01)', async () => {
    const result = await loginOverSocket(port(), { user: 'scram_user', password: 'wrong' });
    expect(result.codes).toEqual([10, 11]);
    expect(result.error).toContain('C28P01');
  });
});
