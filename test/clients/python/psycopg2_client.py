"""psycopg2 (notebooks, pandas, SQLAlchemy, Superset, dbt's postgres adapter) through redshift-auth-proxy.

Runs one scenario and prints key=value lines that test/clients/psycopg2.test.ts asserts.
Usage: psycopg2_client.py <scenario> <port>
"""
import hashlib
import io
import select
import sys

import psycopg2
import psycopg2.errors
import psycopg2.extras


def connect(port, user, **kwargs):
    # No password anywhere, and libpq's default sslmode (prefer): the proxy answers 'N' on loopback.
    kwargs.setdefault("dbname", "dev")
    return psycopg2.connect(host="127.0.0.1", port=port, user=user, connect_timeout=15, **kwargs)


def put(key, value):
    print(f"{key}={value}", flush=True)


def scenario_copy(port):
    conn = connect(port, "py_copy")
    cur = conn.cursor()
    cur.execute("create table copy_t (id int primary key, name text, note text)")
    # Tabs, backslashes, quotes, non-ASCII and NULLs: COPY's text format escapes, all of it relayed byte for byte.
    null = "\\N"
    rows = "".join(f"{i}\tname-{i} \\\\ 'q' é\t{null if i % 7 == 0 else 'note ' + str(i)}\n" for i in range(1, 20001))
    cur.copy_expert("copy copy_t from stdin", io.StringIO(rows))
    put("copiedIn", cur.rowcount)
    conn.commit()
    out = io.StringIO()
    cur.copy_expert("copy (select id, name, note from copy_t order by id) to stdout", out)
    put("copiedOut", cur.rowcount)
    put("roundTrip", out.getvalue() == rows)
    put("md5", hashlib.md5(out.getvalue().encode()).hexdigest() == hashlib.md5(rows.encode()).hexdigest())
    csv = io.StringIO()
    cur.copy_expert("copy (select id, note from copy_t where id <= 3 order by id) to stdout with (format csv, header)", csv)
    put("csv", csv.getvalue().replace("\n", "|"))
    # A COPY that the server refuses midway (bad data) ends in an error, and the session goes on.
    try:
        cur.copy_expert("copy copy_t from stdin", io.StringIO("20001\tok\tok\nnot-a-number\tx\tx\n"))
        put("badCopy", "accepted")
    except psycopg2.errors.InvalidTextRepresentation as e:
        put("badCopy", e.pgcode)
    conn.rollback()
    cur.execute("select count(*) from copy_t")
    put("rowsAfterBadCopy", cur.fetchone()[0])
    conn.close()


def scenario_named_cursor(port):
    conn = connect(port, "py_cursor")
    # A named cursor is DECLARE ... CURSOR on the server; psycopg2 FETCHes itersize rows at a time.
    cur = conn.cursor(name="big_result")
    cur.itersize = 100
    cur.execute("select g, repeat('x', 100) from generate_series(1, 1000) g")
    total = 0
    count = 0
    seen = None
    for row in cur:
        count += 1
        total += row[0]
        if count == 150:
            probe = conn.cursor()
            probe.execute("select name from pg_cursors where name = 'big_result'")
            seen = probe.fetchone()[0]
    put("rows", count)
    put("sum", total)
    put("serverCursor", seen)
    cur.close()
    conn.commit()
    # withhold=True: DECLARE ... WITH HOLD survives the commit.
    held = conn.cursor(name="held", withhold=True)
    held.execute("select g from generate_series(1, 10) g")
    conn.commit()
    put("heldAfterCommit", len(held.fetchall()))
    held.close()
    conn.close()


def scenario_transactions(port):
    conn = connect(port, "py_tx")
    cur = conn.cursor()
    cur.execute("create table tx_t (id int primary key)")
    conn.commit()
    cur.execute("insert into tx_t values (1)")
    conn.rollback()
    cur.execute("select count(*) from tx_t")
    put("afterRollback", cur.fetchone()[0])
    with conn:  # commits on success
        cur.execute("insert into tx_t values (1), (2)")
    cur.execute("select count(*) from tx_t")
    put("afterCommit", cur.fetchone()[0])
    try:
        with conn:  # rolls back on error
            cur.execute("insert into tx_t values (3)")
            cur.execute("insert into tx_t values (1)")
    except psycopg2.errors.UniqueViolation as e:
        put("error", e.pgcode)
    cur.execute("select count(*) from tx_t")
    put("afterError", cur.fetchone()[0])
    cur.execute("savepoint s1")
    cur.execute("insert into tx_t values (10)")
    cur.execute("rollback to savepoint s1")
    cur.execute("insert into tx_t values (11)")
    conn.commit()
    cur.execute("select string_agg(id::text, ',' order by id) from tx_t")
    put("afterSavepoint", cur.fetchone()[0])
    conn.rollback()
    conn.set_session(isolation_level="SERIALIZABLE", readonly=True)
    cur.execute("select current_setting('transaction_isolation'), current_setting('transaction_read_only')")
    put("session", ",".join(cur.fetchone()))
    conn.rollback()
    conn.close()


def scenario_notify(port):
    # LISTEN/NOTIFY: a NotificationResponse arrives between queries, unasked; the proxy relays it as it comes.
    listener = connect(port, "py_notify")
    listener.autocommit = True
    listener.cursor().execute("listen jobs")
    notifier = connect(port, "py_notify")
    notifier.autocommit = True
    notifier.cursor().execute("notify jobs, 'job-42'")
    notices = []
    deadline = 10.0
    while not listener.notifies and deadline > 0:
        ready, _, _ = select.select([listener], [], [], 1.0)
        deadline -= 1.0
        if ready:
            listener.poll()
    put("payload", listener.notifies[0].payload if listener.notifies else "none")
    # A NOTICE (server message outside any result) reaches the client too.
    cur = listener.cursor()
    cur.execute("do $$ begin raise notice 'hello from plpgsql'; end $$")
    notices.extend(listener.notices)
    put("notice", notices[-1].strip() if notices else "none")
    listener.close()
    notifier.close()


def scenario_startup(port):
    conn = connect(port, "py_user", dbname="other", application_name="jupyter-notebook",
                   options="-c search_path=pg_catalog -c statement_timeout=2500", client_encoding="LATIN1")
    cur = conn.cursor()
    cur.execute("select current_database(), current_setting('application_name'), current_setting('search_path'), "
                "current_setting('statement_timeout'), current_setting('client_encoding'), 'é'")
    for key, value in zip(["database", "application_name", "search_path", "statement_timeout", "client_encoding",
                           "text"], cur.fetchone()):
        put(key, value)
    put("encoding", conn.encoding)
    conn.close()


def scenario_sqlalchemy(port):
    # SQLAlchemy over psycopg2: what Superset, pandas.read_sql and notebooks use. Reflection (the Inspector) is how
    # Superset lists schemas, tables and columns; stream_results is a server-side cursor.
    import sqlalchemy
    from sqlalchemy import text

    engine = sqlalchemy.create_engine(f"postgresql+psycopg2://sqla_user@127.0.0.1:{port}/dev?application_name=superset",
                                      pool_size=2)
    with engine.begin() as conn:
        conn.execute(text("create table sqla_t (id int primary key, name text not null, amount numeric(10, 2))"))
        conn.execute(text("insert into sqla_t select g, 'n' || g, g / 10.0 from generate_series(1, 500) g"))
    inspector = sqlalchemy.inspect(engine)
    put("schemas", ",".join(s for s in inspector.get_schema_names() if s == "public"))
    put("tables", ",".join(t for t in inspector.get_table_names(schema="public") if t.startswith("sqla_")))
    put("columns", ",".join(f"{c['name']}:{c['type']}" for c in inspector.get_columns("sqla_t", schema="public")))
    put("primaryKey", ",".join(inspector.get_pk_constraint("sqla_t", schema="public")["constrained_columns"]))
    with engine.connect() as conn:
        put("app", conn.execute(text("select current_setting('application_name')")).scalar())
        put("bound", conn.execute(text("select sum(amount) from sqla_t where id <= :n"), {"n": 10}).scalar())
        streamed = conn.execution_options(stream_results=True, max_row_buffer=100).execute(
            text("select id from sqla_t order by id"))
        ids = [row.id for row in streamed]
        put("streamed", f"{len(ids)}:{sum(ids)}")
    engine.dispose()


def scenario_replication(port):
    try:
        psycopg2.connect(host="127.0.0.1", port=port, user="py_user", dbname="dev", connect_timeout=15,
                         connection_factory=psycopg2.extras.LogicalReplicationConnection)
        put("replication", "connected")
    except psycopg2.OperationalError as e:
        put("message", str(e).replace("\n", " "))


def scenario_whoami(port):
    # An IAM Identity Center listener: no password, whatever user name the tool has; the session is the person's.
    conn = connect(port, "py_idc")
    cur = conn.cursor()
    cur.execute("select current_user, session_user")
    user, session = cur.fetchone()
    put("user", user)
    put("session_user", session)
    cur.execute("create table idc_py_t (id int primary key, who text default current_user)")
    cur.execute("insert into idc_py_t (id) values (%s), (%s)", (1, 2))
    conn.commit()
    cur.execute("select count(*), min(who) from idc_py_t")
    count, who = cur.fetchone()
    put("rows", count)
    put("owner", who)
    conn.close()


SCENARIOS = {
    "whoami": scenario_whoami,
    "copy": scenario_copy,
    "named-cursor": scenario_named_cursor,
    "transactions": scenario_transactions,
    "notify": scenario_notify,
    "startup": scenario_startup,
    "sqlalchemy": scenario_sqlalchemy,
    "replication": scenario_replication,
}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in SCENARIOS:
        sys.exit(f"usage: psycopg2_client.py {{{'|'.join(SCENARIOS)}}} <port>")
    SCENARIOS[sys.argv[1]](int(sys.argv[2]))
