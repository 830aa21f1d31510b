/**
 * What the demo's self-tests (self-test.ts, sign-in-self-test.ts, idc-self-test.ts) share: a step prints PASS or
 * FAIL with what it saw and how long it took, and a failed step throws, so later steps (which build on earlier
 * ones) do not run.
 */
import type { Print } from './story-log.js';
import { ServerError } from './wire-client.js';

/** A step saw something other than what the demo promises. */
export class StepFailed extends Error {}

export function expect(condition: boolean, message: string): void {
  if (!condition) throw new StepFailed(message);
}

export type Step = (name: string, run: () => Promise<string>) => Promise<void>;

export function stepPrinter(print: Print): Step {
  return async (name, run) => {
    const t0 = performance.now();
    try {
      const saw = await run();
      print(`PASS  ${name} — ${saw} (${Math.round(performance.now() - t0)} ms)`);
    } catch (err) {
      const why = err instanceof ServerError ? `server said ${err.message}` : err instanceof Error ? err.message : String(err);
      print(`FAIL  ${name} — ${why}`);
      throw err;
    }
  };
}
