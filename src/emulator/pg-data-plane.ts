/**
 * The data plane over a real PostgreSQL server (the test bed), driven through a superuser query function so this
 * file does not depend on how the test bed is started.
 *
 * Roles are named exactly as the API returns them (`"IAM:alice"`, quoted: the colon is not an identifier
 * character). The password is stored as an md5 verifier (`'md5' || md5(password || rolname)`), which is what
 * Redshift itself uses: it makes `md5` authentication work whatever `password_encryption` says, and the cleartext
 * password never appears in a statement (nor in the server's statement log).
 */
import { createHash } from 'node:crypto';
import type { DataPlane, IssueOptions } from './types.js';

/**
 * Runs one statement as a superuser on the database clients log in to. Parameters are strings only, so any
 * test-bed query function with wider parameter types fits.
 */
export type SuperuserQuery = (sql: string, params?: string[]) => Promise<readonly unknown[]>;

export interface PgDataPlaneOptions {
  /** The database new roles may CONNECT to; default: the superuser connection's current database. */
  readonly database?: string | undefined;
}

/** SQLSTATE 42710 duplicate_object: a concurrent CREATE ROLE won the race. */
const DUPLICATE_OBJECT = '42710';

export function createPgDataPlane(superuserQuery: SuperuserQuery, options: PgDataPlaneOptions = {}): DataPlane {
  let database: Promise<string> | undefined;
  const currentDatabase = (): Promise<string> => {
    database ??= options.database !== undefined
      ? Promise.resolve(options.database)
      : superuserQuery('SELECT current_database() AS db').then((rows) => {
        const db = (rows[0] as { db?: unknown } | undefined)?.db;
        if (typeof db !== 'string') throw new Error('current_database() returned no name');
        return db;
      });
    return database;
  };

  const exists = async (sql: string, name: string): Promise<boolean> => (await superuserQuery(sql, [name])).length > 0;

  return {
    userExists: (dbUser) =>
      exists('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', dbUser),

    // A Redshift group is a set of users that cannot log in itself; in PostgreSQL that is a NOLOGIN role
    // (CREATE GROUP makes one). A login role is a user, and joining it "as a group" is refused like a missing group.
    groupExists: (name) =>
      exists('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1 AND NOT rolcanlogin', name),

    async issue(dbUser: string, password: string, validUntil: Date, opts: IssueOptions): Promise<void> {
      const role = quoteIdent(dbUser);
      const secret = `${quoteLiteral(md5Verifier(password, dbUser))} VALID UNTIL ${quoteLiteral(validUntil.toISOString())}`;
      const alter = `ALTER ROLE ${role} WITH LOGIN PASSWORD ${secret}`;
      if (opts.create) {
        try {
          await superuserQuery(`CREATE ROLE ${role} WITH LOGIN PASSWORD ${secret}`);
          // Enough for a test to connect and work in `public` (PostgreSQL 15 no longer lets PUBLIC create there).
          await superuserQuery(`GRANT CONNECT ON DATABASE ${quoteIdent(await currentDatabase())} TO ${role}`);
          await superuserQuery(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
        } catch (err) {
          if ((err as { code?: unknown }).code !== DUPLICATE_OBJECT) throw err;
          await superuserQuery(alter);
        }
      } else {
        await superuserQuery(alter);
      }
      for (const group of opts.groups) await superuserQuery(`GRANT ${quoteIdent(group)} TO ${role}`);
    },
  };
}

/** PostgreSQL's md5 password verifier; the role name is the salt. */
export function md5Verifier(password: string, roleName: string): string {
  return `md5${createHash('md5').update(password + roleName, 'utf8').digest('hex')}`;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A standard string literal; `standard_conforming_strings` (on since PostgreSQL 9.1) keeps backslashes literal. */
function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
