/**
 * The session's state machine without sockets: events in, the next phase and the actions out.
 */
import { describe, expect, it } from 'vitest';
import { ClientError } from '../../src/protocol/client-error.js';
import { INITIAL, Phase, step } from '../../src/proxy/session-stepper.js';
import type { EndFacts, SessionEvent, SessionState } from '../../src/proxy/session-stepper.js';
import type { RelayEnd } from '../../src/proxy/relay.js';
import type { UpstreamSession } from '../../src/target/open-upstream.js';

const upstream = { dbUser: 'IAM:x' } as unknown as UpstreamSession;
const refusal = new ClientError({ code: '08P01', message: 'no' });
const FACTS: EndFacts = { terminated: false, clientDestroyed: false, heal: true };
const lost: RelayEnd = { closedBy: 'upstream', reason: 'Redshift closed the connection', bytesToClient: 1, bytesToUpstream: 1, atBoundary: true };
const fatal57 = { frame: Buffer.from('E-57P01'), code: '57P01' };
const fatal08 = { frame: Buffer.from('E-08P01'), code: '08P01' };

/** Runs events from a state; returns the final state and each step's action kinds. */
function run(from: SessionState, ...events: SessionEvent[]): { state: SessionState; kinds: string[][] } {
  let state = from;
  const kinds: string[][] = [];
  for (const e of events) {
    const next = step(state, e);
    state = next.state;
    kinds.push(next.actions.map((a) => a.kind));
  }
  return { state, kinds };
}

const relaying = run(INITIAL, { type: 'startup-checked', authenticating: false }, { type: 'admitted' },
  { type: 'upstream-opened', upstream }).state;

describe('session stepper', () => {
  it('logs in: startup checked, admitted, upstream opened → relaying', () => {
    const r = run(INITIAL, { type: 'startup-checked', authenticating: true }, { type: 'admitted' }, { type: 'upstream-opened', upstream });
    expect(r.kinds).toEqual([[], ['open-upstream'], ['relay']]);
    expect(r.state).toEqual({ phase: Phase.Relaying, greeted: true });
    expect(run(INITIAL, { type: 'startup-checked', authenticating: true }).state.phase).toBe(Phase.Authenticating);
  });

  it('refuses before login with the error, and closes', () => {
    const r = run(INITIAL, { type: 'refused', error: refusal });
    expect(r.kinds).toEqual([['refuse', 'finish']]);
    expect(r.state.phase).toBe(Phase.Closed);
    const failed = run(INITIAL, { type: 'admitted' }, { type: 'upstream-failed', error: refusal });
    expect(failed.kinds[1]).toEqual(['refuse', 'finish']);
  });

  it('times out by phase: refuses before login, aborts a login in progress, ignores it later', () => {
    const error = refusal;
    expect(run(INITIAL, { type: 'startup-timeout', error }).kinds).toEqual([['refuse', 'finish']]);
    const loggingIn = run(INITIAL, { type: 'admitted' }).state;
    expect(run(loggingIn, { type: 'startup-timeout', error }).kinds).toEqual([['abort-login']]);
    expect(run(relaying, { type: 'startup-timeout', error }).kinds).toEqual([[]]);
  });

  it('a closed session ignores events but closes an upstream connection that arrives late', () => {
    const closed = run(INITIAL, { type: 'door-closed' }).state;
    expect(run(closed, { type: 'refused', error: refusal }, { type: 'upstream-opened', upstream }).kinds)
      .toEqual([[], ['discard-upstream']]);
  });

  it('an upstream loss asks for a plan; a heal plan writes the reply, heals, and relays again', () => {
    const r = run(relaying, { type: 'relay-ended', end: lost, facts: FACTS },
      { type: 'loss-planned', plan: { kind: 'heal', reply: Buffer.from('E+Z') }, reason: 'x' },
      { type: 'upstream-opened', upstream });
    expect(r.kinds).toEqual([['plan-loss'], ['write', 'heal'], ['relay']]);
    expect(r.state.phase).toBe(Phase.Relaying);
  });

  it('one error per lost statement: a server FATAL already passed on, or class 08, or --no-heal ends the session once', () => {
    expect(run(relaying, { type: 'relay-ended', end: { ...lost, fatalForwarded: true }, facts: FACTS }).kinds).toEqual([['finish']]);
    const proto = step(relaying, { type: 'relay-ended', end: lost, facts: { ...FACTS, serverFatal: fatal08 } });
    expect(proto.actions).toEqual([{ kind: 'end-with-frame', frame: fatal08.frame }, { kind: 'finish', end: lost }]);
    const noHeal = step(relaying, { type: 'relay-ended', end: lost, facts: { ...FACTS, heal: false, serverFatal: fatal57 } });
    expect(noHeal.actions.map((a) => a.kind)).toEqual(['end-with-frame', 'finish']);
    const noHealSilent = step(relaying, { type: 'relay-ended', end: lost, facts: { ...FACTS, heal: false } });
    expect(noHealSilent.actions[0]).toMatchObject({ kind: 'end-with', error: { code: '08006' } });
    // A healable session's FATAL 57P01 is not passed on: the plan decides.
    expect(run(relaying, { type: 'relay-ended', end: lost, facts: { ...FACTS, serverFatal: fatal57 } }).kinds).toEqual([['plan-loss']]);
  });

  it('a loss mid-message destroys the connection; a fatal plan ends with its error', () => {
    expect(run(relaying, { type: 'relay-ended', end: { ...lost, atBoundary: false }, facts: FACTS }).kinds).toEqual([['destroy-client', 'finish']]);
    expect(run(relaying, { type: 'loss-planned', plan: { kind: 'fatal', error: refusal }, reason: 'x' }).kinds).toEqual([['end-with', 'finish']]);
  });

  it('an open batch skips to Sync, answers it, then heals or enters the failed transaction', () => {
    const skipping = run(relaying, { type: 'loss-planned', plan: { kind: 'heal', reply: Buffer.from('E'), skipToSync: true }, reason: 'x' });
    expect(skipping.kinds).toEqual([['write', 'skip-to-sync']]);
    expect(skipping.state).toMatchObject({ phase: Phase.SkippingToSync, afterSkip: 'heal' });
    expect(run(skipping.state, { type: 'synced', rest: Buffer.alloc(0), reason: 'x' }).kinds).toEqual([['ready-for-query', 'heal']]);
    const inTx = run(relaying, { type: 'loss-planned', plan: { kind: 'failed-transaction', reply: Buffer.from('E'), skipToSync: true }, reason: 'x' },
      { type: 'synced', rest: Buffer.alloc(0), reason: 'x' }, { type: 'rolled-back', rest: Buffer.alloc(0) });
    expect(inTx.kinds).toEqual([['write', 'skip-to-sync'], ['ready-for-query', 'failed-transaction'], ['heal']]);
    expect(inTx.state.phase).toBe(Phase.Healing);
  });

  it('an idle release waits for the client, which reopens an upstream connection', () => {
    const r = run(relaying, { type: 'relay-ended', end: { ...lost, closedBy: 'released' }, facts: FACTS },
      { type: 'client-spoke', chunk: Buffer.from('Q') });
    expect(r.kinds).toEqual([['read-released'], ['heal']]);
    const heal = step(run(relaying, { type: 'relay-ended', end: { ...lost, closedBy: 'released' }, facts: FACTS }).state,
      { type: 'client-spoke', chunk: Buffer.from('Q') });
    expect(heal.actions[0]).toMatchObject({ kind: 'heal', cause: 'reopen' });
  });

  it('after the client\'s Terminate, what the server still said reaches it, and the session ends as the client\'s', () => {
    const held = Buffer.from('E-08P01');
    const r = step(relaying, { type: 'relay-ended', end: { ...lost, held }, facts: { ...FACTS, terminated: true } });
    expect(r.actions).toEqual([{ kind: 'write', bytes: held },
      { kind: 'finish', end: { ...lost, held, closedBy: 'client', reason: 'client sent Terminate' } }]);
  });

  it('shutdown: closes the relay with a message, or ends the session by phase', () => {
    expect(run(relaying, { type: 'shutdown', error: refusal }).kinds).toEqual([['close-relay']]);
    expect(run(INITIAL, { type: 'shutdown', error: refusal }).kinds).toEqual([['refuse', 'finish']]);
    const healing = run(relaying, { type: 'loss-planned', plan: { kind: 'heal' }, reason: 'x' }).state;
    expect(run(healing, { type: 'shutdown', error: refusal }).kinds).toEqual([['end-with', 'finish']]);
  });

  it('the client going away mid-relay is the relay\'s to report; elsewhere it closes the session', () => {
    expect(run(relaying, { type: 'client-gone', reason: 'x' }).kinds).toEqual([[]]);
    expect(run(INITIAL, { type: 'client-gone', reason: 'x' }).kinds).toEqual([['finish']]);
  });

  it('an unknown event is a bug, not a silent no-op', () => {
    expect(() => step(INITIAL, { type: 'nonsense' } as unknown as SessionEvent)).toThrow(/unhandled session event/);
  });
});
