/**
 * IAM Identity Center sign-in: ask a TokenProvider for "an access token for start URL X, region R, scopes S" and
 * get one shared sign-in. SsoSignIn is the implementation (AWS CLI token cache, refresh, browser or device code);
 * profileSignIn reads a profile's target from ~/.aws/config.
 */
export type { AccessToken, SignInPrompt, SignInTarget, TokenOptions, TokenProvider } from './sign-in-types.js';
export { SignInFailedError, SignInRequiredError } from './sign-in-types.js';
export { SsoSignIn } from './sso-sign-in.js';
export type { SsoSignInOptions } from './sso-sign-in.js';
export { PORTAL_SCOPE, SsoConfigError, profileSignIn } from './sso-config.js';
export type { ProfileSignIn } from './sso-config.js';
export { tokenPath } from './token-cache.js';
