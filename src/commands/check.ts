/**
 * `check`: a doctor for one listener's target. Walks the path a client's connection takes — the AWS identity,
 * a temporary credential, the Redshift endpoint, a verified TLS login, a query (for an IAM Identity Center
 * listener: the token, the endpoint, TLS and the code-14 login, a query; check-idc.ts) — printing each step as passed (✓)
 * or failed (✗) with the fix, and skipping what a failure makes pointless. Uses the proxy's own Target and
 * openUpstream, so it sees exactly what a client would. Exit 0 when every step passed, else 1. Prints no secret.
 */
import type { Config } from '../config/config.js';
import { describeCredentialFailure } from '../credentials/aws-error-hints.js';
import { formatIdentity, resolveIdentity, awsSettingsFor } from '../credentials/aws-identity.js';
import { openUpstream } from '../target/open-upstream.js';
import type { UpstreamSession } from '../target/open-upstream.js';
import type { ResolvedLogin } from '../target/target.js';
import { probeTarget } from './probe-target.js';
import type { ProbeOptions, ProbeTarget } from './probe-target.js';
import { simpleQuery } from './simple-query.js';
import { idcSteps } from './check-idc.js';
import type { Step } from './check-step.js';

const QUERY = 'select current_user, version()';
const QUERY_TIMEOUT_MS = 15_000;

type Write = (line: string) => void;

export type { Step } from './check-step.js';

/** message, then the fix and the detail when the error carries them (ClientError, QueryError). */
function explain(err: unknown): string[] {
  if (!(err instanceof Error)) return [String(err)];
  const { hint, detail } = err as { hint?: unknown; detail?: unknown };
  return [
    err.message,
    ...(typeof hint === 'string' && hint ? [`fix: ${hint}`] : []),
    ...(typeof detail === 'string' && detail ? [`detail: ${detail}`] : []),
  ];
}

function steps(p: ProbeTarget, options: ProbeOptions, config: Config): Step[] {
  const t = p.listener.target;
  const database = (): string => p.target.databaseFor(options.database);
  let resolved: ResolvedLogin | undefined;
  let upstream: UpstreamSession | undefined;
  const signal = (): AbortSignal => AbortSignal.timeout(config.startupTimeoutMs + config.connectTimeoutMs);
  return [
    {
      name: 'AWS identity',
      run: async () => {
        try {
          return formatIdentity(await resolveIdentity(t));
        } catch (err) {
          const aws = awsSettingsFor(t);
          throw describeCredentialFailure(err, { action: 'AWS provider chain', iamActions: [], resources: [],
            profile: t.profile, region: aws.region, targetName: t.clusterId ?? t.workgroup ?? t.upstreamHost ?? 'target',
            endpointUrl: t.awsEndpointUrl, assumeRoleArn: t.assumeRoleArn });
        }
      },
    },
    {
      name: 'temporary credentials',
      run: async () => {
        p.target.checkUser(p.user);
        const db = database();
        resolved = await p.target.resolve(p.target.requestFor(p.user, db), signal());
        const c = resolved.credential;
        const minutes = Math.round((c.expiresAt.getTime() - Date.now()) / 60_000);
        return `${p.target.source.action} issued database user ${c.user} for database "${db}", valid until ${c.expiresAt.toISOString()} (${minutes} min)`;
      },
    },
    {
      name: 'Redshift endpoint',
      run: async () => {
        const e = await p.target.endpoint();
        return `${e.host}:${e.port}${t.upstreamHost ? '' : ' (discovered)'}`;
      },
    },
    {
      name: 'TLS connection and login',
      run: async () => {
        const started = performance.now();
        const params = new Map([['user', p.user], ['database', database()], ['application_name', 'redshift-auth-proxy check']]);
        upstream = await openUpstream(p.target, params, signal());
        return `verified TLS to ${upstream.endpoint.host}:${upstream.endpoint.port}, logged in as ${upstream.dbUser} to "${upstream.database}" in ${Math.round(performance.now() - started)} ms`;
      },
    },
    {
      name: QUERY,
      run: async () => {
        if (!upstream) throw new Error('no connection');
        const [user, version] = await simpleQuery(upstream.socket, QUERY, QUERY_TIMEOUT_MS);
        return `current_user = ${user ?? 'NULL'}; version() = ${version ?? 'NULL'}`;
      },
    },
  ];
}

export async function runCheck(config: Config, options: ProbeOptions, write: Write = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  let probe: ProbeTarget;
  try {
    probe = probeTarget(config, options);
  } catch (err) {
    write(`✗ configuration: ${explain(err).join('\n    ')}`);
    return 1;
  }
  const t = probe.listener.target;
  write(`redshift-auth-proxy check: listener ${probe.label} → ${t.workgroup ? `workgroup ${t.workgroup}` : t.clusterId ? `cluster ${t.clusterId}` : t.upstreamHost ?? '?'}, as local user "${probe.user}"`);
  let failed = false;
  try {
    // An IAM Identity Center listener uses no AWS credentials: its path is token → TLS → code-14 login → query.
    for (const step of probe.target.idc ? idcSteps(probe, options, config) : steps(probe, options, config)) {
      if (failed) {
        write(`· ${step.name}: skipped`);
        continue;
      }
      try {
        write(`✓ ${step.name}: ${await step.run()}`);
      } catch (err) {
        failed = true;
        write(`✗ ${step.name}: ${explain(err).join('\n    ')}`);
      }
    }
  } finally {
    probe.close();
  }
  write(failed ? 'check failed' : 'all checks passed: clients can connect through this listener');
  return failed ? 1 : 0;
}
