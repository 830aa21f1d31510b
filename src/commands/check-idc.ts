/**
 * `check` for an IAM Identity Center listener: the path such a client's connection takes — the token (sign-in or
 * --idc-token-command), the endpoint, verified TLS and the code-14 login, `select current_user` — with no AWS
 * identity step, since no AWS credentials are used. Each failure carries the fix its error already names.
 * The token itself is never printed.
 */
import type { Config } from '../config/config.js';
import { IdcToken } from '../credentials/idc-token.js';
import { openUpstream } from '../target/open-upstream.js';
import type { UpstreamSession } from '../target/open-upstream.js';
import type { Step } from './check-step.js';
import type { ProbeOptions, ProbeTarget } from './probe-target.js';
import { simpleQuery } from './simple-query.js';

const QUERY = 'select current_user';
const QUERY_TIMEOUT_MS = 15_000;

export function idcSteps(p: ProbeTarget, options: ProbeOptions, config: Config): Step[] {
  const database = (): string => p.target.databaseFor(options.database);
  let upstream: UpstreamSession | undefined;
  const signal = (): AbortSignal => AbortSignal.timeout(config.startupTimeoutMs + config.connectTimeoutMs);
  return [
    {
      name: `IAM Identity Center token (${p.target.source.action})`,
      run: async () => {
        const { credential } = await p.target.resolve(p.target.requestFor(p.user, database()), signal());
        if (!(credential instanceof IdcToken)) throw new Error('this listener does not log in with Identity Center');
        const minutes = Math.round((credential.expiresAt.getTime() - Date.now()) / 60_000);
        return `a token for ${credential.user}, valid until ${credential.expiresAt.toISOString()} (${minutes} min)`;
      },
    },
    {
      name: 'Redshift endpoint',
      run: async () => {
        const e = await p.target.endpoint();
        return `${e.host}:${e.port}`;
      },
    },
    {
      name: 'TLS connection and Identity Center login',
      run: async () => {
        const started = performance.now();
        const params = new Map([['user', p.user], ['database', database()], ['application_name', 'redshift-auth-proxy check']]);
        upstream = await openUpstream(p.target, params, signal());
        return `verified TLS to ${upstream.endpoint.host}:${upstream.endpoint.port}, Redshift took the token (code 14) and `
          + `logged in ${upstream.dbUser} to "${upstream.database}" in ${Math.round(performance.now() - started)} ms`;
      },
    },
    {
      name: QUERY,
      run: async () => {
        if (!upstream) throw new Error('no connection');
        const [user] = await simpleQuery(upstream.socket, QUERY, QUERY_TIMEOUT_MS);
        return `current_user = ${user ?? 'NULL'}`;
      },
    },
  ];
}
