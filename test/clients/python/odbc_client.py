"""psqlODBC (the driver path of Tableau and Power BI on PostgreSQL protocols) through redshift-auth-proxy.

Connects with a DSN-less string through unixODBC (pyodbc), runs one scenario, and prints key=value lines that
test/clients/psqlodbc.test.ts asserts. Usage: odbc_client.py <scenario> <port> <path to psqlodbcw.so>
"""
import sys

import pyodbc


def connect(port, driver, user, database="dev", extra=""):
    # Pwd= is empty on purpose: the proxy needs no password. SSLmode=prefer is what BI tools default to;
    # the proxy answers 'N' to the SSLRequest on loopback and the driver goes on in plaintext.
    conn_str = (f"Driver={driver};Server=127.0.0.1;Port={port};Database={database};Uid={user};Pwd=;"
                f"SSLmode=prefer{';' + extra if extra else ''}")
    return pyodbc.connect(conn_str, timeout=15)


def put(key, value):
    print(f"{key}={value}", flush=True)


def scenario_connect(port, driver):
    conn = connect(port, driver, "odbc_user")
    put("dbms", conn.getinfo(pyodbc.SQL_DBMS_NAME))
    put("driverVersion", conn.getinfo(pyodbc.SQL_DRIVER_VER))
    cur = conn.cursor()
    user, database, tls = cur.execute(
        "select current_user, current_database(), (select ssl from pg_stat_ssl where pid = pg_backend_pid())").fetchone()
    put("user", user)
    put("database", database)
    put("upstreamTls", tls)
    # Parameters (psqlODBC binds them with the extended protocol), text in and out, NULLs.
    put("param", cur.execute("select ?::int + 1, ?::text, ?::text is null", 41, "naïve ☃", None).fetchone())
    put("rows", len(cur.execute("select g, md5(g::text) from generate_series(1, 5000) g").fetchall()))
    conn.close()


def scenario_metadata(port, driver):
    conn = connect(port, driver, "odbc_meta")
    cur = conn.cursor()
    cur.execute("create table meta_parent (id int primary key)")
    cur.execute("create table meta_t (id int primary key, parent_id int references meta_parent(id), "
                "name text not null, amount numeric(10,2))")
    cur.execute("create index meta_t_name on meta_t (name)")
    cur.execute("create view meta_v as select id, name from meta_t")
    conn.commit()
    # The catalog calls a BI tool makes to fill its table picker and field list.
    put("tables", ",".join(sorted(f"{r.table_name}:{r.table_type}" for r in cur.tables(table="meta%", schema="public"))))
    put("columns", ",".join(f"{r.column_name}:{r.type_name}" for r in cur.columns(table="meta_t")))
    put("primaryKeys", ",".join(r.column_name for r in cur.primaryKeys("meta_t")))
    put("foreignKeys", ",".join(r.pktable_name for r in cur.foreignKeys(foreignTable="meta_t")))
    put("statistics", ",".join(sorted(r.index_name for r in cur.statistics("meta_t") if r.index_name)))
    put("typeInfo", len(cur.getTypeInfo().fetchall()))
    conn.close()


def scenario_transactions(port, driver):
    conn = connect(port, driver, "odbc_tx")
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("create table odbc_tx_t (id int primary key)")
    conn.commit()
    cur.execute("insert into odbc_tx_t values (1)")
    conn.rollback()
    put("afterRollback", cur.execute("select count(*) from odbc_tx_t").fetchone()[0])
    cur.executemany("insert into odbc_tx_t values (?)", [(i,) for i in range(1, 101)])
    conn.commit()
    put("afterCommit", cur.execute("select count(*) from odbc_tx_t").fetchone()[0])
    try:
        cur.execute("insert into odbc_tx_t values (1)")
        put("duplicate", "accepted")
    except pyodbc.IntegrityError as e:
        put("duplicate", e.args[0])
    conn.rollback()
    put("afterError", cur.execute("select count(*) from odbc_tx_t").fetchone()[0])
    conn.close()


def scenario_declare_fetch(port, driver):
    # UseDeclareFetch: the driver reads large results through a server-side cursor, Fetch rows at a time.
    conn = connect(port, driver, "odbc_cursor", extra="UseDeclareFetch=1;Fetch=100")
    cur = conn.cursor()
    cur.execute("select g from generate_series(1, 1000) g")
    first = cur.fetchmany(150)
    other = conn.cursor()
    # The driver's cursor for the big query (this inspecting query gets a cursor of its own, left out).
    put("cursorsMidFetch", other.execute("select count(*) from pg_cursors where statement like '%generate_series%'"
                                         " and statement not like '%pg_cursors%'").fetchone()[0])
    rest = cur.fetchall()
    put("rows", len(first) + len(rest))
    put("sum", sum(r[0] for r in first + rest))
    conn.close()


def scenario_startup(port, driver):
    # pqopt passes libpq connection options through the driver: what a Tableau "Initial SQL" user reaches for.
    conn = connect(port, driver, "odbc_user", database="other",
                   extra="pqopt={application_name=Tableau options='-c statement_timeout=1234'}")
    cur = conn.cursor()
    row = cur.execute("select current_database(), current_setting('application_name'), "
                      "current_setting('statement_timeout'), current_setting('client_encoding')").fetchone()
    for key, value in zip(["database", "application_name", "statement_timeout", "client_encoding"], row):
        put(key, value)
    conn.close()


SCENARIOS = {
    "connect": scenario_connect,
    "metadata": scenario_metadata,
    "transactions": scenario_transactions,
    "declare-fetch": scenario_declare_fetch,
    "startup": scenario_startup,
}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in SCENARIOS:
        sys.exit(f"usage: odbc_client.py {{{'|'.join(SCENARIOS)}}} <port> <psqlodbcw.so>")
    SCENARIOS[sys.argv[1]](int(sys.argv[2]), sys.argv[3])
