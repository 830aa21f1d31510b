/**
 * What an AWS failure's hint needs to know: the call, the permissions it needs, where it ran.
 */
export interface HintContext {
  /** e.g. "GetClusterCredentials". */
  readonly action: string;
  /** IAM action names needed, e.g. ["redshift:GetClusterCredentials"]. */
  readonly iamActions: readonly string[];
  /** Resource ARNs the call needs permission on (`<region>`/`<account-id>` where not known in advance). */
  readonly resources: readonly string[];
  readonly profile?: string | undefined;
  readonly region?: string | undefined;
  /** "cluster my-cluster" / "workgroup analytics". */
  readonly targetName: string;
  readonly endpointUrl?: string | undefined;
  /** The DbUser requested (GetClusterCredentials only), for the policy's redshift:DbUser condition. */
  readonly dbUser?: string | undefined;
  readonly assumeRoleArn?: string | undefined;
}
