/**
 * The emulator's HTTP front: one listener on 127.0.0.1 (port 0) for every service, told apart as AWS's own
 * endpoints would be by their protocol — a request with `X-Amz-Target` is AWS JSON 1.1 (`redshift-serverless`),
 * anything else is a Query form POST (`redshift`, or `sts` when it carries STS's API version).
 *
 * Every request walks the same short path, in AWS's order:
 *   reset? → read body → decode the action → 503? → count it → delay → verify SigV4 → injected failure? → act → answer
 * A request that cannot be decoded is still answered in its protocol; every answer gets a request id.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ControlPlane } from './actions.js';
import type { CallContext } from './actions.js';
import { ApiFault, authFault, injectedFault } from './faults.js';
import { header, readBody, send, sleep } from './http.js';
import { dispatchJson, jsonErrorBody } from './json-protocol.js';
import { dispatchQuery, queryErrorXml } from './query-protocol.js';
import { decodeRequest, knownAction, paramsOf, serviceOf } from './request-routing.js';
import type { Decoded } from './request-routing.js';
import { verifySigV4 } from './sigv4.js';
import { SSO_PATH, SsoPortal } from './sso-portal.js';
import { IdentityCenterOidc } from './sso-oidc.js';
import { answerIdentityCenter } from './sso-oidc-wire.js';
import { STS_SERVICE, SecurityTokenService } from './sts.js';
import { Actions } from './types.js';
import type {
  ActionName, CallRecord, Emulator, EmulatorOptions, IdentityCenterHandle, Injection, Principal, Protocol, Unavailability,
} from './types.js';

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const emulator = new EmulatorServer(options);
  await emulator.listen();
  return emulator;
}

interface PendingInjection {
  readonly injection: Injection;
  remaining: number;
}

class EmulatorServer implements Emulator {
  readonly calls: Record<ActionName, number> = zeroCounts();
  readonly callLog: CallRecord[] = [];
  private readonly server: Server;
  private readonly plane: ControlPlane;
  /** The configured principals, and every session AssumeRole has handed out since. */
  private readonly principals: Map<string, Principal>;
  private readonly sts: SecurityTokenService;
  private readonly sso: SsoPortal;
  private readonly oidc: IdentityCenterOidc;
  private readonly closing = new AbortController();
  private injections: PendingInjection[] = [];
  private delayMs = 0;
  private unavailable: Unavailability | undefined;
  private lifetimeSeconds: number | undefined;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: EmulatorOptions) {
    this.principals = new Map(options.principals.map((p) => [p.accessKeyId, p]));
    this.sts = new SecurityTokenService(options.roles ?? [], (p) => this.principals.set(p.accessKeyId, p));
    this.oidc = new IdentityCenterOidc(options.identityCenter ?? { users: [] });
    this.sso = new SsoPortal(options.ssoSessions ?? [], (p) => this.principals.set(p.accessKeyId, p),
      (token, scope) => this.oidc.validate(token, scope), (token) => this.oidc.logout(token));
    this.lifetimeSeconds = options.lifetimeSeconds;
    this.plane = new ControlPlane({
      clusters: options.clusters ?? [],
      workgroups: options.workgroups ?? [],
      dataPlane: options.dataPlane,
      lifetimeSeconds: () => this.lifetimeSeconds,
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // Only a broken socket gets here (handle answers every fault itself); there is nobody left to answer.
        this.options.log?.(`emulator: request failed: ${err instanceof Error ? err.message : String(err)}`);
        res.destroy();
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get identityCenter(): IdentityCenterHandle {
    const oidc = this.oidc;
    return {
      validateToken: (token, scope) => oidc.validate(token, scope),
      get approvals() { return oidc.approvals; },
      revoke: (userName) => oidc.revoke(userName),
      expireAccessTokens: () => oidc.expireAccessTokens(),
    };
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  inject(injection: Injection): void {
    if (!Number.isInteger(injection.times) || injection.times < 1) throw new RangeError('times must be a positive integer');
    this.injections.push({ injection, remaining: injection.times });
  }

  setDelay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  setAvailable(available: boolean, how: Unavailability = 'reset'): void {
    this.unavailable = available ? undefined : how;
  }

  setLifetimeSeconds(seconds: number | undefined): void {
    this.lifetimeSeconds = seconds;
  }

  resetCounters(): void {
    for (const action of Object.values(Actions)) this.calls[action] = 0;
    this.callLog.length = 0;
    this.injections = [];
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.closing.abort();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // "Down" as a network failure: drop the connection before reading a byte.
    if (this.unavailable === 'reset') {
      req.socket.destroy();
      return;
    }
    const requestId = randomUUID();
    const target = header(req, 'x-amz-target');
    const protocol: Protocol = target !== undefined ? 'json' : 'query';
    let decoded: Decoded | undefined;
    let caller: string | undefined;
    let region: string | undefined;
    let status = 200;
    let errorCode: string | undefined;
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://emulator');
      if (req.method === 'GET' && url.pathname === SSO_PATH) {
        this.answerSso(req, res, url, requestId);
        return;
      }
      if (this.answerIdentityCenter(req, res, url, body.toString('utf8'), requestId)) return;
      if (req.method !== 'POST') throw new ApiFault('MethodNotAllowed', 405, `${req.method ?? ''} is not allowed; use POST.`);
      const text = body.toString('utf8');
      decoded = decodeRequest(target, text);
      // "Down" as an overloaded endpoint: an answer, but not a call the API served, so it is not counted.
      if (this.unavailable === '503') throw injectedFault(protocol, 'ServiceUnavailable');
      const action = decoded.request.action;
      const service = serviceOf(decoded);
      const known = knownAction(decoded, service);
      if (known !== undefined) this.calls[known]++;

      if (this.delayMs > 0) await sleep(this.delayMs, this.closing.signal);

      let answer: string;
      if (decoded.protocol === 'query' && service === STS_SERVICE && action === Actions.AssumeRoleWithWebIdentity) {
        // The one unsigned call: the web identity token is the proof of identity.
        const injected = this.takeInjection(Actions.AssumeRoleWithWebIdentity);
        if (injected) throw injectedFault(protocol, injected.error);
        const out = this.sts.assumeRoleWithWebIdentity(decoded.request.params, requestId);
        caller = out.caller;
        answer = out.xml;
      } else {
        const verified = await verifySigV4(
          { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body },
          (key) => this.principals.get(key),
          service,
        );
        if (!verified.ok) throw authFault(protocol, verified.kind, verified.message);
        caller = verified.principal.arn;
        region = verified.region;

        const injected = known !== undefined ? this.takeInjection(known) : undefined;
        if (injected) throw injectedFault(protocol, injected.error);

        const ctx: CallContext = { protocol, principal: verified.principal, region: verified.region };
        answer = decoded.protocol === 'json'
          ? await dispatchJson(this.plane, ctx, decoded.target, decoded.request)
          : service === STS_SERVICE
            ? this.sts.dispatch(ctx, decoded.request.params, requestId)
            : await dispatchQuery(this.plane, ctx, decoded.request, requestId);
      }
      send(res, 200, protocol, answer, requestId);
    } catch (err) {
      const fault = err instanceof ApiFault ? err : internalFault(protocol, err, this.options.log);
      status = fault.status;
      errorCode = fault.code;
      if (protocol === 'json') {
        send(res, fault.status, protocol, jsonErrorBody(fault), requestId, { 'x-amzn-errortype': fault.code });
      } else {
        send(res, fault.status, protocol, queryErrorXml(fault, requestId), requestId);
      }
    }
    const action = decoded?.request.action ?? '';
    this.callLog.push({
      at: new Date(),
      protocol,
      action,
      caller,
      region,
      params: decoded === undefined ? {} : paramsOf(decoded),
      status,
      error: errorCode,
    });
    this.options.log?.(`emulator: ${protocol} ${action || '(none)'} ${caller ?? '(unauthenticated)'} -> ${status}` +
      (errorCode !== undefined ? ` ${errorCode}` : ''));
  }

  /** GET /federation/credentials: the SSO portal (a bearer token, no SigV4), see sso-portal.ts. */
  private answerSso(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): void {
    this.calls.GetRoleCredentials++;
    const out = this.sso.getRoleCredentials(url.searchParams, header(req, 'x-amz-sso_bearer_token'));
    send(res, out.status, 'json', out.body, requestId, out.errorType !== undefined ? { 'x-amzn-errortype': out.errorType } : {});
    this.callLog.push({ at: new Date(), protocol: 'json', action: Actions.GetRoleCredentials, caller: out.caller,
      params: { role_name: url.searchParams.get('role_name'), account_id: url.searchParams.get('account_id') },
      status: out.status, error: out.errorType });
  }

  /** IAM Identity Center: the portal's Logout, the OIDC API and its browser pages. False: not one of theirs. */
  private answerIdentityCenter(req: IncomingMessage, res: ServerResponse, url: URL, body: string, requestId: string): boolean {
    const out = answerIdentityCenter({ oidc: this.oidc, portal: this.sso, baseUrl: this.url }, req, res, url, body, requestId);
    if (out === undefined) return false;
    if (out === 'page') return true;
    this.calls[out.action]++;
    this.callLog.push({ at: new Date(), protocol: 'json', action: out.action, params: out.params, status: out.status,
      error: out.errorType });
    this.options.log?.(`emulator: json ${out.action} -> ${out.status}${out.errorType !== undefined ? ` ${out.errorType}` : ''}`);
    return true;
  }

  private takeInjection(action: ActionName): Injection | undefined {
    const pending = this.injections.find((p) => p.remaining > 0 &&
      (p.injection.action === undefined || p.injection.action === action));
    if (!pending) return undefined;
    pending.remaining--;
    this.injections = this.injections.filter((p) => p.remaining > 0);
    return pending.injection;
  }
}

function zeroCounts(): Record<ActionName, number> {
  return Object.fromEntries(Object.values(Actions).map((a) => [a, 0])) as Record<ActionName, number>;
}

/** A failure of the emulator itself is AWS's InternalFailure, and its message goes to the log, not the client. */
function internalFault(protocol: Protocol, err: unknown, log: ((line: string) => void) | undefined): ApiFault {
  log?.(`emulator: internal error: ${err instanceof Error ? err.message : String(err)}`);
  return injectedFault(protocol, 'InternalFailure');
}
