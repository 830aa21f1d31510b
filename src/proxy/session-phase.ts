/**
 * The phases of a session, from the first byte to the close (session-stepper.ts moves between them).
 */
export const Phase = {
  /** Encryption requests, cancel requests and the startup packet (front-door.ts). */
  AwaitingStartup: 'awaiting-startup',
  /** The client proves the listener's password (SCRAM-SHA-256). */
  Authenticating: 'authenticating',
  /** Credential, upstream connection and login; the client's early bytes wait. */
  LoggingIn: 'logging-in',
  /** Bytes move both ways (relay.ts). */
  Relaying: 'relaying',
  /** --idle-release gave the upstream connection back; the client's next bytes reopen one. */
  Released: 'released',
  /** The loss was reported inside an open extended batch: the client's messages are dropped up to its Sync. */
  SkippingToSync: 'skipping-to-sync',
  /** The loss rolled a transaction back: the proxy answers 25P02 until ROLLBACK. */
  FailedTransaction: 'failed-transaction',
  /** A new upstream connection is opened and the session's state replayed on it. */
  Healing: 'healing',
  Closed: 'closed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];
