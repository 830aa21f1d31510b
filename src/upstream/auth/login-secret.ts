/**
 * What a login answers Redshift's authentication request with: a temporary password, or an Identity Center token.
 */
/** The temporary database user and password the proxy logs in to Redshift with. */
export interface PasswordSecret {
  readonly user: string;
  readonly password: string;
}

/**
 * An IAM Identity Center access token (Redshift's own IdC login): the database user is whoever the token names, so
 * there is no user or password. `token` returns the value when the login writes it, nothing keeps a copy.
 */
export interface TokenSecret {
  readonly token: () => string;
}

/** What the login answers Redshift's authentication request with. */
export type LoginSecret = PasswordSecret | TokenSecret;
