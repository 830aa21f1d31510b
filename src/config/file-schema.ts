/**
 * The shape of a config file (YAML), checked with zod: types, ranges and unknown keys, each reported at its path
 * so the loader can add the line. Rules between fields live in validate-config.ts, shared with the flags.
 * Keys are the flag names in camelCase (--db-user → dbUser); durations are in seconds, as on the command line.
 *
 * Every target key, clientAuth and clientTls may also stand at the top level, as the default of every listener
 * that does not set it; one precedence throughout: flag > environment > listener > top level.
 */
import { z } from 'zod';
import { LOG_FORMATS, LOG_LEVELS } from './config.js';

const text = z.string().min(1, { error: 'must not be empty' });
const names = z.array(text);
const seconds = z.number().positive({ error: 'must be a positive number of seconds' });
const count = z.number().int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' });
/** HOST:PORT as a string, or a bare port number. */
const address = z.union([text, z.number().int().min(0).max(65535)], { error: 'must be HOST:PORT or a port number' });

const userMapping = z.strictObject({
  /** Database user requested when this local user connects. */
  dbUser: text.optional(),
  /** Database groups joined instead of the target's. */
  dbGroups: names.optional(),
});

export const targetSchema = z.strictObject({
  upstream: text.optional(),
  clusterId: text.optional(),
  workgroup: text.optional(),
  /** The cluster's or workgroup's custom domain name (--custom-domain). */
  customDomain: text.optional(),
  region: text.optional(),
  dbUser: text.optional(),
  dbName: text.optional(),
  dbGroups: names.optional(),
  autoCreate: z.boolean().optional(),
  duration: z.number().int({ error: 'must be 900–3600 (whole seconds)' })
    .min(900, { error: 'must be 900–3600' }).max(3600, { error: 'must be 900–3600' }).optional(),
  withIam: z.boolean().optional(),
  profile: text.optional(),
  assumeRole: text.optional(),
  externalId: text.optional(),
  roleSessionName: text.optional(),
  awsEndpointUrl: text.optional(),
  /** Relative paths are read from the config file's directory. */
  caFile: text.optional(),
  allowedUsers: names.optional(),
  users: z.record(text, userMapping).optional(),
  /** IAM Identity Center login (Redshift's own integration): see the flags of the same names. */
  idcIssuerUrl: text.optional(),
  idcRegion: text.optional(),
  idcNamespace: text.optional(),
  idcDisplayName: text.optional(),
  idcTokenCommand: text.optional(),
  /** --db-user-from-identity: the caller's own name (STS GetCallerIdentity) is the DbUser. */
  dbUserFromIdentity: z.boolean().optional(),
});

/** Who may connect (required off loopback): a password checked with SCRAM-SHA-256 and/or a client-certificate CA. */
const clientAuth = z.strictObject({ password: text.optional(), passwordFile: text.optional(), caFile: text.optional() });
/** TLS towards clients. */
const clientTls = z.strictObject({ cert: text, key: text, require: z.boolean().optional() });

export const listenerSchema = z.strictObject({
  name: text.optional(),
  listen: address.optional(),
  unixSocket: text.optional(),
  maxConnections: count.optional(),
  clientAuth: clientAuth.optional(),
  clientTls: clientTls.optional(),
  /** `target: {}` when the top level says it all. */
  target: targetSchema,
}).refine((l) => l.listen === undefined || l.unixSocket === undefined, {
  error: 'give listen or unixSocket, not both',
  path: ['unixSocket'],
});

export const fileSchema = z.strictObject({
  listeners: z.array(listenerSchema).min(1, { error: 'must list at least one listener' }),
  /** Defaults for every listener's target (e.g. one awsEndpointUrl, caFile or profile for all). */
  ...targetSchema.shape,
  clientAuth: clientAuth.optional(),
  clientTls: clientTls.optional(),
  /** Heal sessions across lost Redshift connections (--heal; false is --no-heal). */
  heal: z.boolean().optional(),
  /** Logged-in Redshift connections kept ready per identity and database (--warm). */
  warm: z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' }).optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  logFormat: z.enum(LOG_FORMATS).optional(),
  httpListen: address.optional(),
  shutdownGrace: z.number().min(0, { error: 'must be zero or more seconds' }).optional(),
  maxConnections: count.optional(),
  startupTimeout: seconds.optional(),
  connectTimeout: seconds.optional(),
  /** Seconds after which an idle session gives its Redshift connection back (--idle-release). */
  idleRelease: seconds.optional(),
  /** Sign-in on demand (see the flags of the same names): seconds a startup waits for it, 0 off. */
  signInWait: z.number().min(0, { error: 'must be zero or more seconds' }).optional(),
  noBrowser: z.boolean().optional(),
  signInPort: z.number().int().min(0).max(65535).optional(),
  ssoStartUrl: text.optional(),
  ssoRegion: text.optional(),
  /** Most connections to Redshift at once, sessions and warm spares together (--max-upstream-connections). */
  maxUpstreamConnections: count.optional(),
  /** Warm spares per listener in all (--warm-total). */
  warmTotal: count.optional(),
  /** Seconds a warm spare may sit unused (--warm-idle). */
  warmIdle: seconds.optional(),
  /** Let a non-loopback listener run without client TLS (--allow-plaintext-network). */
  allowPlaintextNetwork: z.boolean().optional(),
  /** File holding the operations endpoint's bearer token (--http-token-file). */
  httpTokenFile: text.optional(),
  /** Exit 0 instead of 143 after SIGTERM (--exit-zero-on-sigterm). */
  exitZeroOnSigterm: z.boolean().optional(),
  /** Fetch credentials only when a connection needs one; no background refresh (--lazy-refresh). */
  lazyRefresh: z.boolean().optional(),
});

export type FileConfig = z.infer<typeof fileSchema>;
export type FileListener = z.infer<typeof listenerSchema>;
export type FileTarget = z.infer<typeof targetSchema>;
