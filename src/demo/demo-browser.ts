/**
 * The `--sign-in --self-test` demo's stand-in for a person's browser (BROWSER points here): it loads the sign-in
 * page the proxy opens, which the demo's Identity Center approves at once with a redirect, and follows that
 * redirect to the proxy's loopback callback — what a browser with a live Identity Center session does.
 */
async function open(url: string): Promise<void> {
  const page = await fetch(url, { redirect: 'manual' });
  const location = page.headers.get('location');
  if (page.status !== 302 || location === null) throw new Error(`the sign-in page answered ${page.status}, not a redirect`);
  await (await fetch(new URL(location, url), { redirect: 'manual' })).text();
}

open(process.argv[2] ?? '').catch((err: unknown) => {
  process.stderr.write(`demo browser: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
