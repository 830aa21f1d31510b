/**
 * A data plane that keeps roles in memory and records every call: for tests of the emulator and of API-level
 * behaviour that need no database. It is a real implementation of the interface, not a mock of anything.
 */
import type { DataPlane, IssueOptions } from './types.js';

export interface MemoryRole {
  readonly password: string;
  readonly validUntil: Date;
  readonly groups: ReadonlySet<string>;
}

export type DataPlaneCall =
  | { readonly op: 'issue'; readonly dbUser: string; readonly validUntil: Date; readonly create: boolean;
    readonly groups: readonly string[] }
  | { readonly op: 'userExists'; readonly dbUser: string }
  | { readonly op: 'groupExists'; readonly name: string };

export class MemoryDataPlane implements DataPlane {
  readonly roles = new Map<string, MemoryRole>();
  readonly groups: Set<string>;
  /** Every call in order; passwords are kept only in `roles`. */
  readonly calls: DataPlaneCall[] = [];

  constructor(init: { users?: readonly string[]; groups?: readonly string[] } = {}) {
    this.groups = new Set(init.groups ?? []);
    for (const user of init.users ?? []) {
      this.roles.set(user, { password: '', validUntil: new Date(0), groups: new Set() });
    }
  }

  issue(dbUser: string, password: string, validUntil: Date, opts: IssueOptions): Promise<void> {
    this.calls.push({ op: 'issue', dbUser, validUntil, create: opts.create, groups: [...opts.groups] });
    const existing = this.roles.get(dbUser);
    // The same rules a database enforces: CREATE of an existing role and ALTER of a missing one fail.
    if (opts.create && existing) return Promise.reject(new Error(`role "${dbUser}" already exists`));
    if (!opts.create && !existing) return Promise.reject(new Error(`role "${dbUser}" does not exist`));
    for (const g of opts.groups) {
      if (!this.groups.has(g)) return Promise.reject(new Error(`role "${g}" does not exist`));
    }
    this.roles.set(dbUser, { password, validUntil, groups: new Set([...(existing?.groups ?? []), ...opts.groups]) });
    return Promise.resolve();
  }

  userExists(dbUser: string): Promise<boolean> {
    this.calls.push({ op: 'userExists', dbUser });
    return Promise.resolve(this.roles.has(dbUser));
  }

  groupExists(name: string): Promise<boolean> {
    this.calls.push({ op: 'groupExists', name });
    return Promise.resolve(this.groups.has(name));
  }

  /** True when this user could log in with this password now. */
  accepts(dbUser: string, password: string, at: Date = new Date()): boolean {
    const role = this.roles.get(dbUser);
    return role !== undefined && role.password !== '' && role.password === password && at < role.validUntil;
  }
}
