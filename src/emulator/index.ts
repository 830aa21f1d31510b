/**
 * A local stand-in for the Redshift and Redshift Serverless control planes, spoken to by the real AWS SDK v3
 * clients through an endpoint override. See types.ts for the options and the handle.
 */
export { startEmulator } from './server.js';
export { MemoryDataPlane } from './memory-data-plane.js';
export type { DataPlaneCall, MemoryRole } from './memory-data-plane.js';
export { createPgDataPlane, md5Verifier, quoteIdent } from './pg-data-plane.js';
export type { PgDataPlaneOptions, SuperuserQuery } from './pg-data-plane.js';
export { Actions } from './types.js';
export type {
  ActionName, CallRecord, ClusterConfig, DataPlane, Emulator, EmulatorOptions, IdentityCenterConfig,
  IdentityCenterHandle, InjectedError, Injection, IssuedToken, IssueOptions, NetworkEndpoint, Principal, Protocol,
  RoleConfig, SsoSessionConfig, SsoUserConfig, Unavailability, WorkgroupConfig,
} from './types.js';
