/**
 * --idc-token-command: what it may print (a bare token, a JWT, the AWS CLI's token-cache JSON), how long a token
 * is kept, one run for concurrent callers, refused tokens dropped, and failures that never echo the output.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { IdcTokenCommand, parseOutput } from '../../src/credentials/idc-token-command.js';
import { ClientError } from '../../src/protocol/client-error.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const jwt = (payload: object): string => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

describe('what the command prints', () => {
  it('a bare token: assumed to live 900 s, as the Redshift drivers assume', () => {
    const t = parseOutput('aoaAAAAAGtoken123\n', NOW);
    expect(t.value).toBe('aoaAAAAAGtoken123');
    expect(t.expiresAt.getTime() - NOW).toBe(900_000);
  });

  it("a JWT: its exp", () => {
    expect(parseOutput(jwt({ exp: NOW / 1000 + 120 }), NOW).expiresAt.getTime()).toBe(NOW + 120_000);
  });

  it('AWS CLI token-cache JSON: accessToken and expiresAt', () => {
    const t = parseOutput(JSON.stringify({ startUrl: 'https://x', accessToken: 'aoaTOKEN', expiresAt: '2026-12-02T12:30:00Z' }), NOW);
    expect([t.value, t.expiresAt.toISOString()]).toEqual(['aoaTOKEN', '2026-12-02T12:30:00.000Z']);
  });

  it.each([['', /printed nothing/], ['two words', /more than one word/], ['{"token":"x"}', /without an "accessToken"/], ['{nope', /not JSON/]])(
    'refuses %j without repeating it', (text, why) => {
      let err: unknown;
      try { parseOutput(text, NOW); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ClientError);
      expect((err as ClientError).code).toBe('28000');
      expect((err as ClientError).message).toMatch(why);
      if (text.length > 3) expect((err as ClientError).message).not.toContain(text);
    });

  it('never shows the token when logged or serialised', () => {
    const t = parseOutput('aoaSECRETVALUE', NOW);
    expect(JSON.stringify(t)).not.toContain('aoaSECRETVALUE');
    expect(inspect(t)).not.toContain('aoaSECRETVALUE');
  });
});

describe('running the command', () => {
  it('runs once for concurrent callers, keeps the token, and runs again after a refusal', async () => {
    const dir = (await import('node:fs/promises')).mkdtemp;
    const tmp = await dir((await import('node:path')).join((await import('node:os')).tmpdir(), 'rap-cmd-'));
    const runs = `${tmp}/runs`;
    const source = new IdcTokenCommand({ command: `echo x >> '${runs}'; echo "tok-$(wc -l < '${runs}' | tr -d ' ')"` });
    const [a, b, c] = await Promise.all([source.token(), source.token(), source.token()]);
    expect(a.value).toBe('tok-1');
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await source.token()).toBe(a);
    source.refused(a);
    expect((await source.token()).value).toBe('tok-2');
  });

  it('a failing command: exit status and the end of its stderr, never its stdout', async () => {
    const source = new IdcTokenCommand({ command: 'echo secret-output; echo "no session" >&2; exit 4' });
    await expect(source.token()).rejects.toThrow('no IAM Identity Center token: --idc-token-command exited with status 4: no session');
  });

  it('a command that hangs is stopped', async () => {
    const source = new IdcTokenCommand({ command: 'sleep 30', timeoutMs: 200 });
    await expect(source.token()).rejects.toThrow(/did not finish within 0.2 s/);
  });
});
