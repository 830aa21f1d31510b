/**
 * Opens a URL in the person's browser. `BROWSER` is honoured as other CLIs honour it (Python's webbrowser, git):
 * a `:`-separated list of commands tried in turn, each given the URL as its last argument, or in place of `%s`.
 * Without it: `open` on macOS, `xdg-open` elsewhere. No shell is involved, so a URL is never interpreted.
 * A command that cannot start, or exits non-zero within a moment, counts as "no browser" (a server without a
 * desktop): the caller falls back to the device code, which can be finished on any device.
 */
import { spawn } from 'node:child_process';

/** How long a browser command may take to fail before it counts as opened. */
const FAIL_WINDOW_MS = 1_500;

export async function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const commands = env.BROWSER !== undefined && env.BROWSER.trim() !== ''
    ? env.BROWSER.split(':').map((c) => c.trim()).filter((c) => c !== '')
    : [process.platform === 'darwin' ? 'open' : 'xdg-open'];
  for (const command of commands) {
    const words = command.split(/\s+/);
    const argv = words.some((w) => w.includes('%s')) ? words.map((w) => w.replace(/%s/g, url)) : [...words, url];
    if (await tryCommand(argv, env)) return true;
  }
  return false;
}

function tryCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      child.unref();
      resolve(true);
    }, FAIL_WINDOW_MS);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}
