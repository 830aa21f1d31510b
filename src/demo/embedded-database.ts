/**
 * The demo's database: PGlite (PostgreSQL compiled to WebAssembly, in this process, in memory), with a small
 * schema that looks like an analyst's Redshift: a `sales` table and a `regions` dimension, a few hundred rows made
 * deterministically so every run shows the same numbers.
 *
 * The database user the proxy logs in as (`IAM:analyst`, the DbUser GetClusterCredentials returns) exists as a
 * role here so that `current_user` inside the session says who the proxy logged in as. It has no password in
 * PGlite: passwords and their expiry are checked by the stand-in Redshift in front (fake-redshift.ts), as md5 logins
 * against what the control-plane emulator issued.
 */
import { PGlite } from '@electric-sql/pglite';

export const DEMO_DATABASE = 'dev';

const SCHEMA_SQL = `
create table regions (
  region_id   int primary key,
  name        text not null
);
insert into regions values (1, 'North America'), (2, 'Europe'), (3, 'Asia Pacific'), (4, 'Latin America');

create table sales (
  sale_id     int primary key,
  sold_at     date not null,
  region_id   int not null references regions,
  product     text not null,
  quantity    int not null,
  amount      numeric(12, 2) not null
);
-- 365 sales, one a day through 2025, with products and amounts that vary but repeat on every run.
insert into sales
select g,
       date '2025-01-01' + (g - 1),
       1 + (g * 7) % 4,
       (array['Widget', 'Gadget', 'Gizmo', 'Doohickey', 'Sprocket'])[1 + (g * 3) % 5],
       1 + (g * 13) % 9,
       round((19.99 + (g * 37) % 250 + ((g * 11) % 100) / 100.0)::numeric, 2)
from generate_series(1, 365) as g;

create view monthly_revenue as
select date_trunc('month', sold_at)::date as month, r.name as region, sum(amount) as revenue, count(*) as orders
from sales join regions r using (region_id)
group by 1, 2;
`;

export interface EmbeddedDatabase {
  readonly db: PGlite;
  /** Milliseconds PGlite took to start (the WebAssembly module compiles on first use). */
  readonly startMs: number;
  close(): Promise<void>;
}

/** Double quotes make a role name with a colon (`IAM:analyst`) a valid identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Starts PGlite with the demo schema, owned by its bootstrap superuser, and one login role per database user the
 * demo will hand out, each allowed to read (not change) the demo tables — like a read-only analyst group.
 */
export async function startEmbeddedDatabase(dbUsers: readonly string[]): Promise<EmbeddedDatabase> {
  const started = performance.now();
  // The database is `dev`, Redshift's default, so connection strings and current_database() look like the real
  // thing. PGlite runs one backend attached to one database for its whole life and initdb only makes `postgres`,
  // so `dev` is created in a first instance whose data directory (in memory) then starts the instance we keep.
  const bootstrap = await PGlite.create();
  await bootstrap.exec(`create database ${DEMO_DATABASE}`);
  const image = await bootstrap.dumpDataDir('none');
  await bootstrap.close();
  const db = await PGlite.create({ loadDataDir: image, database: DEMO_DATABASE });
  const startMs = performance.now() - started;
  await db.exec(SCHEMA_SQL);
  for (const user of dbUsers) {
    const role = quoteIdent(user);
    await db.exec(`create role ${role} login;
      grant usage on schema public to ${role};
      grant select on all tables in schema public to ${role};`);
  }
  return { db, startMs, close: () => db.close() };
}
