/**
 * One line of `check`: a name and what it runs.
 */
export interface Step {
  readonly name: string;
  /** Resolves with what was found; throws what went wrong. */
  readonly run: () => Promise<string>;
}
