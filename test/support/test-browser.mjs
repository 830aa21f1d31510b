#!/usr/bin/env node
/**
 * A test "browser" for BROWSER=…: opens the URL it is given the way a person's browser would, on the emulator's
 * IAM Identity Center pages. It follows redirects by hand, reads the page's form (hidden fields, the pre-filled
 * code, the first user offered), submits it with the button a person would click, and follows the answer's
 * redirect to the app's loopback callback.
 *
 *   TEST_BROWSER_DECISION  allow (default) | deny | ignore (open the page, click nothing: an abandoned sign-in)
 *   TEST_BROWSER_USER      the user to sign in as (default: the page's first)
 *   TEST_BROWSER_LOG       a file that gets one line per URL opened (tests count browser tabs with it)
 * Exit status 0 when the flow reached its end, 1 otherwise (the error on stderr).
 */
import { appendFileSync } from 'node:fs';

const url = process.argv[2];
const decision = process.env.TEST_BROWSER_DECISION ?? 'allow';

async function main() {
  if (!url) throw new Error('usage: test-browser.mjs URL');
  if (process.env.TEST_BROWSER_LOG) appendFileSync(process.env.TEST_BROWSER_LOG, `${url}\n`);
  let res = await fetch(url, { redirect: 'manual' });
  if (res.status === 302) return follow(res, url);
  const html = await res.text();
  if (res.status !== 200) throw new Error(`page answered ${res.status}: ${html}`);
  if (decision === 'ignore') return;
  const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error('no form on the page');
  const fields = new URLSearchParams();
  for (const m of form[2].matchAll(/<input (?:type="hidden" )?name="([^"]+)" value="([^"]*)">/g)) fields.set(m[1], unescape(m[2]));
  const firstUser = /<select name="user"><option value="([^"]+)"/.exec(form[2]);
  if (firstUser) fields.set('user', process.env.TEST_BROWSER_USER ?? unescape(firstUser[1]));
  fields.set('decision', decision);
  const action = new URL(form[1], url);
  res = await fetch(action, { method: 'POST', redirect: 'manual', body: fields,
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  if (res.status === 302) return follow(res, action.toString());
  const answer = await res.text();
  if (res.status !== 200) throw new Error(`form answered ${res.status}: ${answer}`);
}

/** The redirect to the app's loopback callback: the browser loads it, and the app reads the code from it. */
async function follow(res, from) {
  const location = new URL(res.headers.get('location') ?? '', from);
  const page = await fetch(location, { redirect: 'manual' });
  await page.text();
}

function unescape(s) {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

main().catch((err) => {
  process.stderr.write(`test-browser: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
