/**
 * What a real client sees when the proxy refuses it, and checks that such a refusal leaked nothing.
 */
import type { Emulator } from '../../src/emulator/index.js';
import { pgClient } from './clients.js';

/** The ErrorResponse fields node-postgres hands to the application. */
export interface Refusal {
  readonly code?: string;
  readonly severity?: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

/** Connects as `user` and returns the error the proxy answered with; fails the test if the login succeeded. */
export async function refusal(port: number, user: string, database = 'dev'): Promise<Refusal> {
  const c = pgClient(port, user, database);
  try {
    await c.connect();
  } catch (err) {
    const e = err as Refusal;
    return { code: e.code, severity: e.severity, message: e.message, detail: e.detail, hint: e.hint };
  }
  await c.end();
  throw new Error(`${user} logged in, but the proxy should have refused`);
}

/** Every request the emulator received, answered or refused. */
export function totalApiCalls(emulator: Emulator): number {
  return Object.values(emulator.calls).reduce((a, b) => a + b, 0);
}

/** The texts that must not contain any of the secrets (empty secrets are ignored). */
export function leakedSecrets(texts: ReadonlyArray<string | undefined>, secrets: ReadonlyArray<string | undefined>): string[] {
  const all = texts.filter((t): t is string => t !== undefined).join('\n');
  return secrets.filter((s): s is string => s !== undefined && s.length > 0 && all.includes(s));
}
