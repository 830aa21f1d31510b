/**
 * Which Node.js versions we run on, and the AWS SDK's notice about them. The SDK (v3) prints an 8-line
 * NodeVersionSupportWarning on every command when Node is older than the SDK's next minimum (22 from its releases
 * after January 2027). package.json pins SDK versions that still support Node 20, so on Node 20 the notice does
 * not apply to us; we turn it off the way the SDK documents (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true,
 * aws/aws-sdk-js-v3#7983), only on the versions package.json's `engines` declares, and never over a value the
 * user set.
 */

/** The oldest Node major package.json's `engines` declares (test/ops/install.test.ts keeps the two equal). */
export const MIN_NODE_MAJOR = 20;

export function quietSdkNodeNotice(env: NodeJS.ProcessEnv = process.env, version: string = process.version): void {
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (major >= MIN_NODE_MAJOR && env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined) {
    env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  }
}
