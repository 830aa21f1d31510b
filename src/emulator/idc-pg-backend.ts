/**
 * The IdC stand-in's backend over a real PostgreSQL server (the test bed): the person's session is a login as the
 * role `AWSIDC:<user>`, made with the proxy's own upstream code — verified TLS, then md5 — with a password only
 * the stand-in knows. The role is created on first use (CREATE ROLE through the data plane, as Redshift creates
 * Identity Center users on their first login) and its password is set once per stand-in, so concurrent logins of
 * one person never race on ALTER ROLE. The token's expiry is the stand-in's to enforce, before this is called.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { cancelRequest, startupMessage } from '../protocol/frontend-messages.js';
import { backendKeyData } from '../protocol/backend-messages.js';
import { connectTls, trustStore } from '../upstream/connect-tls.js';
import { login } from '../upstream/login.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';
import type { BackendSession, IdcBackend } from './idc-redshift.js';
import type { DataPlane } from './types.js';

export interface PgIdcBackendOptions {
  /** The server's address; its certificate must name `host`. */
  readonly host: string;
  readonly port: number;
  /** The CA that signed the server's certificate. */
  readonly caPem: string;
  /** Creates and alters login roles (createPgDataPlane over the superuser connection). */
  readonly dataPlane: DataPlane;
}

/** Role passwords live this long; the stand-in refuses expired tokens itself. */
const ROLE_LIFETIME_MS = 24 * 3600_000;

export function pgIdcBackend(options: PgIdcBackendOptions): IdcBackend {
  const endpoint: UpstreamEndpoint = { host: options.host, port: options.port, extraCaPem: [options.caPem],
    secureContext: trustStore([options.caPem]), connectTimeoutMs: 5_000 };
  const passwords = new Map<string, Promise<string>>();
  const passwordFor = (dbUser: string): Promise<string> => {
    let p = passwords.get(dbUser);
    if (!p) {
      const password = randomBytes(18).toString('base64url');
      p = options.dataPlane.issue(dbUser, password, new Date(Date.now() + ROLE_LIFETIME_MS), { create: true, groups: [] })
        .then(() => password);
      p.catch(() => passwords.delete(dbUser));
      passwords.set(dbUser, p);
    }
    return p;
  };
  return {
    async open(dbUser: string, params: ReadonlyMap<string, string>): Promise<BackendSession> {
      const password = await passwordFor(dbUser);
      const socket = await connectTls(endpoint);
      try {
        const result = await login(socket, startupMessage(new Map([['user', dbUser], ...params])), { user: dbUser, password });
        const key = result.backendKey ? [backendKeyData(result.backendKey.processId, result.backendKey.secretKey)] : [];
        return { socket, greeting: Buffer.concat([...result.statusFrames, ...key, result.readyForQuery, result.leftover]) };
      } catch (err) {
        socket.destroy();
        throw err;
      }
    },
    cancel(processId: number, secretKey: number): void {
      // PostgreSQL reads CancelRequests before any authentication (and so before pg_hba's TLS rule).
      const s = net.connect(options.port, options.host, () => s.end(cancelRequest(processId, secretKey)));
      s.on('error', () => undefined);
    },
  };
}
