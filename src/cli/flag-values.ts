/**
 * One check per kind of flag value, applied by yargs as the value is parsed (command line or environment), so a
 * wrong value is refused at once with the form that was expected: `--warm expects a whole number from 0 to 1000,
 * e.g. 2 (got 1.5)`, `--listen expects HOST:PORT, e.g. 127.0.0.1:5439 (got nonsense)`. The rules between flags
 * (and the same ranges for config files) stay in config/validate-config.ts.
 */

/** Thrown for a value of the wrong form; the CLI prints the message and exits 2. */
export class FlagValueError extends Error {
  override readonly name = 'FlagValueError';
}

export interface NumberRule {
  /** Whole numbers only (counts, ports, whole seconds). */
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  /** A value to show in the message. */
  readonly example: string;
  /** Unit for the message ("seconds"); none for counts. */
  readonly unit?: string;
}

/** What the user wrote, for messages (yargs hands over a string, or an array when a flag is repeated). */
function last(value: unknown): string {
  const v: unknown = Array.isArray(value) ? value[value.length - 1] : value;
  return typeof v === 'string' || typeof v === 'number' ? String(v).trim() : '';
}

/** yargs coerce for a numeric flag: the number, or FlagValueError naming the expected form. */
export function numberValue(flag: string, rule: NumberRule): (value: unknown) => number {
  return (value) => {
    const text = last(value);
    const n = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    const kind = `${rule.integer ? 'a whole number' : 'a number'}${rule.unit ? ` of ${rule.unit}` : ''}`;
    const range = rule.max === Number.MAX_SAFE_INTEGER ? `${rule.min} or more` : `from ${rule.min} to ${rule.max}`;
    if (!Number.isFinite(n) || (rule.integer && !Number.isInteger(n)) || n < rule.min || n > rule.max) {
      throw new FlagValueError(`--${flag} expects ${kind} ${range}, e.g. ${rule.example} (got ${text || 'nothing'})`);
    }
    return n;
  };
}

const PORT = /^\d{1,5}$/;
const validPort = (p: string, min: number): boolean => PORT.test(p) && Number(p) >= min && Number(p) <= 65535;

/** Splits HOST:PORT, [v6]:PORT or HOST (port undefined); undefined when the shape is wrong. */
function split(text: string): { host: string; port: string | undefined } | undefined {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(text);
  if (v6) return { host: v6[1] as string, port: v6[2] };
  const parts = text.split(':');
  if (parts.length > 2) return undefined;
  const [host = '', port] = parts;
  return /^[A-Za-z0-9._-]+$/.test(host) ? { host, port } : undefined;
}

export type AddressForm =
  /** HOST:PORT, port 0–65535 (0: any free port). */
  | 'listen'
  /** HOST:PORT or PORT (on 127.0.0.1). */
  | 'listen-or-port'
  /** HOST or HOST:PORT, port 1–65535. */
  | 'upstream';

const EXPECTED: Record<AddressForm, string> = {
  listen: 'HOST:PORT, e.g. 127.0.0.1:5439',
  'listen-or-port': 'HOST:PORT or PORT, e.g. 127.0.0.1:9090 or 9090',
  upstream: 'HOST[:PORT], e.g. my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com:5439',
};

/** yargs coerce for an address flag: the text unchanged, or FlagValueError naming the expected form. */
export function addressValue(flag: string, form: AddressForm): (value: unknown) => string {
  return (value) => {
    const text = last(value);
    const fail = (): never => {
      throw new FlagValueError(`--${flag} expects ${EXPECTED[form]} (got ${text || 'nothing'})`);
    };
    if (form === 'listen-or-port' && PORT.test(text)) return validPort(text, 0) ? text : fail();
    const a = split(text);
    if (!a) return fail();
    if (form === 'upstream') return a.port === undefined || validPort(a.port, 1) ? text : fail();
    return a.port !== undefined && validPort(a.port, 0) ? text : fail();
  };
}
