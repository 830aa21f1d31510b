/**
 * Where the proxy answers differently from PostgreSQL on purpose. The differential test reads this table: a case
 * that names a difference is checked against the answer written here instead of the server's; every other case
 * must match the server message by message. docs/ARCHITECTURE.md lists the same ids (a test checks that).
 */

export interface DeliberateDifference {
  readonly id: string;
  /** What the client sees differently, and why. */
  readonly what: string;
}

export const DELIBERATE_DIFFERENCES: readonly DeliberateDifference[] = [
  { id: 'no-password-on-loopback',
    what: 'A loopback listener asks for no password (the proxy logs in upstream with a temporary credential); the test bed is reached over its trust socket, so both answer AuthenticationOk.' },
  { id: 'own-words',
    what: 'Messages, details and hints are the proxy\'s own (they say what to do); severities and SQLSTATEs are the server\'s. The comparison reads severity and SQLSTATE only.' },
  { id: 'session-parameters',
    what: 'ParameterStatus values are Redshift\'s (through the proxy) and BackendKeyData is the proxy\'s own key; only their presence and order are compared.' },
  { id: 'heals-lost-statement',
    what: 'A backend terminated mid-statement: PostgreSQL sends FATAL 57P01 and closes; the proxy answers ERROR 08006 with ReadyForQuery and heals the session onto a new connection.' },
  { id: 'heals-idle-session',
    what: 'A backend terminated while the session is idle: PostgreSQL sends FATAL 57P01 and closes; the proxy holds it back, heals, and the next statement just works.' },
  { id: 'repeated-startup-parameter',
    what: 'A startup packet naming a parameter twice is refused with FATAL 08P01 (PostgreSQL takes the last value): the user name decides the identity, so it must be unambiguous.' },
  { id: 'startup-timeout-explains',
    what: 'A client that stalls in startup is told FATAL 08P01 at --startup-timeout; PostgreSQL closes silently at authentication_timeout. Not a wire case here (it takes the timeout).' },
];

export function difference(id: string): DeliberateDifference {
  const d = DELIBERATE_DIFFERENCES.find((x) => x.id === id);
  if (!d) throw new Error(`no deliberate difference "${id}" in the table`);
  return d;
}
