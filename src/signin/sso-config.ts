/**
 * Where a profile signs in: the start URL, region and scopes of its `sso-session` block, or the legacy
 * `sso_start_url`/`sso_region` in the profile itself — read from the AWS shared config file the way the AWS CLI
 * reads it (AWS_CONFIG_FILE, else ~/.aws/config; `[profile NAME]` sections, `[default]`, `[sso-session NAME]`).
 * `sso_registration_scopes` is split on commas as the CLI's parse_sso_registration_scopes does.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { SignInTarget } from './sign-in-types.js';

/** The scope `aws sso login` registers for: the portal's GetRoleCredentials/ListAccounts. */
export const PORTAL_SCOPE = 'sso:account:access';

export type Sections = ReadonlyMap<string, ReadonlyMap<string, string>>;

export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_CONFIG_FILE ?? path.join(env.HOME ?? homedir(), '.aws', 'config');
}

/** INI as botocore reads it: `[name]`, `key = value`, `#`/`;` comment lines; nested (indented) values skipped. */
export function parseIni(text: string): Sections {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      const name = (header[1] ?? '').replace(/\s+/g, ' ');
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      continue;
    }
    if (/^\s/.test(raw)) continue; // a nested sub-setting (s3 = …), which sign-in never needs
    const eq = line.indexOf('=');
    if (current && eq > 0) current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return sections;
}

export class SsoConfigError extends Error {
  override readonly name = 'SsoConfigError';
}

export interface ProfileSignIn {
  readonly target: SignInTarget;
  /** Where it came from, for messages: `sso-session "corp"` or `profile "analytics"`. */
  readonly source: string;
}

/** The sign-in of a profile (AWS_PROFILE, else `default`), or an error that says which line is missing. */
export function profileSignIn(profile: string | undefined, env: NodeJS.ProcessEnv = process.env): ProfileSignIn {
  const name = profile ?? env.AWS_PROFILE ?? 'default';
  const file = configFilePath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new SsoConfigError(`cannot read the AWS config file ${file}; give --sso-start-url and --sso-region, or create it with aws configure sso`);
  }
  const sections = parseIni(text);
  const section = sections.get(name === 'default' ? 'default' : `profile ${name}`) ?? (name === 'default' ? sections.get('profile default') : undefined);
  if (!section) throw new SsoConfigError(`profile "${name}" is not in ${file}`);
  const sessionName = section.get('sso_session');
  if (sessionName !== undefined) {
    const session = sections.get(`sso-session ${sessionName}`);
    if (!session) throw new SsoConfigError(`profile "${name}" names sso_session "${sessionName}", which has no [sso-session ${sessionName}] section in ${file}`);
    const startUrl = session.get('sso_start_url');
    const region = session.get('sso_region');
    if (!startUrl || !region) throw new SsoConfigError(`[sso-session ${sessionName}] in ${file} needs sso_start_url and sso_region`);
    const raw = session.get('sso_registration_scopes');
    const scopes = raw === undefined ? [PORTAL_SCOPE] : raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    return { target: { startUrl, region, scopes, sessionName }, source: `sso-session "${sessionName}"` };
  }
  const startUrl = section.get('sso_start_url');
  const region = section.get('sso_region');
  if (!startUrl || !region) {
    throw new SsoConfigError(`profile "${name}" in ${file} has no sso_session or sso_start_url/sso_region: it does not sign in through IAM Identity Center`);
  }
  return { target: { startUrl, region, scopes: [PORTAL_SCOPE] }, source: `profile "${name}"` };
}
