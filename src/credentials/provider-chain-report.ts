/**
 * What the AWS SDK's default provider chain looked at, said in the words of a hint: which variables were set,
 * which files and profile were read. Built from the environment the proxy runs in at the moment of the failure,
 * naming variables and paths only — never a value that could be a secret.
 * https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html
 */

type Env = Readonly<Record<string, string | undefined>>;

const set = (env: Env, name: string): boolean => (env[name] ?? '') !== '';

/** `~/.aws/config` and `~/.aws/credentials`, or the files AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE name. */
export function sharedFiles(env: Env): { config: string; credentials: string } {
  return {
    config: env.AWS_CONFIG_FILE || '~/.aws/config',
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || '~/.aws/credentials',
  };
}

/** The profile the SDK used: --profile, else AWS_PROFILE, else "default". */
export function effectiveProfile(profile: string | undefined, env: Env): string {
  return profile || env.AWS_PROFILE || 'default';
}

/** One sentence per place the chain looked, in the chain's order. */
export function triedSources(profile: string | undefined, env: Env): string[] {
  const files = sharedFiles(env);
  const name = effectiveProfile(profile, env);
  const tried: string[] = [];
  if (!profile && !set(env, 'AWS_PROFILE')) {
    tried.push(set(env, 'AWS_ACCESS_KEY_ID')
      ? 'AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not'
      : 'environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (not set)');
  }
  tried.push(`profile "${name}" in ${files.config} and ${files.credentials}` +
    (profile ? '' : set(env, 'AWS_PROFILE') ? ' (from AWS_PROFILE)' : ''));
  tried.push(set(env, 'AWS_WEB_IDENTITY_TOKEN_FILE')
    ? `web identity token file ${env.AWS_WEB_IDENTITY_TOKEN_FILE ?? ''}${set(env, 'AWS_ROLE_ARN') ? '' : ' (but AWS_ROLE_ARN is not set)'}`
    : 'web identity for EKS (AWS_WEB_IDENTITY_TOKEN_FILE not set)');
  tried.push(set(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI') || set(env, 'AWS_CONTAINER_CREDENTIALS_FULL_URI')
    ? 'the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*), which gave nothing'
    : 'an ECS/EKS container role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set)');
  tried.push(env.AWS_EC2_METADATA_DISABLED?.toLowerCase() === 'true'
    ? 'EC2 instance metadata (turned off by AWS_EC2_METADATA_DISABLED)'
    : 'EC2 instance metadata (no instance role answered)');
  return tried;
}
