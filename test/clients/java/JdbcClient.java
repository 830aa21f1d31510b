import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.postgresql.PGStatement;

/**
 * pgjdbc (the driver inside DBeaver, DataGrip and Metabase) through redshift-auth-proxy: one scenario per run,
 * results printed as key=value lines that test/clients/pgjdbc.test.ts asserts. Connections use the driver's
 * defaults unless a scenario says otherwise: no password, and no sslmode (42.x means "prefer": the proxy answers
 * 'N' and the driver goes on in plaintext on loopback).
 *
 * Usage: java -cp <dir>:postgresql.jar JdbcClient <scenario> <port>
 */
public final class JdbcClient {
  private static int port;

  public static void main(String[] args) throws Exception {
    if (args.length != 2) throw new IllegalArgumentException("usage: JdbcClient <scenario> <port>");
    port = Integer.parseInt(args[1]);
    switch (args[0]) {
      case "connect" -> connect();
      case "startup" -> startup();
      case "metadata" -> metadata();
      case "prepared" -> prepared();
      case "batch" -> batch();
      case "cancel" -> cancel();
      case "cursor" -> cursor();
      case "replication" -> replication();
      default -> throw new IllegalArgumentException("unknown scenario " + args[0]);
    }
  }

  private static Connection open(String database, String user, String query) throws SQLException {
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + user + (query.isEmpty() ? "" : "&" + query);
    return DriverManager.getConnection(url);
  }

  private static void put(String key, Object value) {
    System.out.println(key + "=" + value);
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      if (!rs.next()) throw new SQLException("no row from " + sql);
      return rs.getString(1);
    }
  }

  /** The default connection: who we are, where, and that the proxy's hop upstream is TLS. */
  private static void connect() throws SQLException {
    try (Connection c = open("dev", "jdbc_user", "")) {
      DatabaseMetaData md = c.getMetaData();
      put("driver", md.getDriverName() + " " + md.getDriverVersion());
      put("product", md.getDatabaseProductName());
      put("productVersion", md.getDatabaseProductVersion());
      put("user", one(c, "select current_user"));
      put("database", one(c, "select current_database()"));
      put("upstreamTls", one(c, "select ssl from pg_stat_ssl where pid = pg_backend_pid()"));
    }
  }

  /** The startup parameters pgjdbc sends (and the ones a user adds in the URL) arrive; so does the database. */
  private static void startup() throws SQLException {
    String query = "ApplicationName=DBeaver%2023.3.0%20-%20Main&options=-c%20search_path%3Dpg_catalog,public%20-c%20statement_timeout%3D4321";
    try (Connection c = open("other", "jdbc_user", query)) {
      put("database", one(c, "select current_database()"));
      for (String name : new String[] {"application_name", "client_encoding", "DateStyle", "extra_float_digits",
          "search_path", "statement_timeout", "TimeZone"}) {
        put(name, one(c, "select current_setting('" + name + "')"));
      }
    }
  }

  /** What a SQL IDE asks when it opens a connection and its navigator. */
  private static void metadata() throws SQLException {
    try (Connection c = open("dev", "jdbc_ide", "")) {
      try (Statement s = c.createStatement()) {
        s.execute("create table ide_parent (id int primary key, name text not null)");
        s.execute("create table ide_t (id int primary key, parent_id int references ide_parent(id), name text not null, "
            + "amount numeric(12,2), created timestamptz default now())");
        s.execute("create index ide_t_name on ide_t (name)");
        s.execute("create view ide_v as select id, name from ide_t");
        s.execute("comment on table ide_t is 'the IDE table'");
      }
      // DBeaver's first queries on a PostgreSQL connection (from its PostgreSQL plugin), as prepared statements.
      try (PreparedStatement p = c.prepareStatement("select current_schema(), session_user")) {
        try (ResultSet rs = p.executeQuery()) {
          rs.next();
          put("currentSchema", rs.getString(1));
        }
      }
      try (PreparedStatement p = c.prepareStatement("select db.oid, db.* from pg_catalog.pg_database db where datname = ?")) {
        p.setString(1, "dev");
        try (ResultSet rs = p.executeQuery()) {
          put("pgDatabaseRow", rs.next());
        }
      }
      put("searchPath", one(c, "show search_path"));

      DatabaseMetaData md = c.getMetaData();
      put("catalogs", join(md.getCatalogs(), "TABLE_CAT"));
      put("schemas", join(md.getSchemas(), "TABLE_SCHEM"));
      put("tableTypes", count(md.getTableTypes()));
      put("tables", join(md.getTables(null, "public", "ide%", new String[] {"TABLE", "VIEW"}), "TABLE_NAME"));
      put("tableRemarks", join(md.getTables(null, "public", "ide_t", null), "REMARKS"));
      put("columns", join(md.getColumns(null, "public", "ide_t", "%"), "COLUMN_NAME"));
      put("columnTypes", join(md.getColumns(null, "public", "ide_t", "%"), "TYPE_NAME"));
      put("primaryKeys", join(md.getPrimaryKeys(null, "public", "ide_t"), "COLUMN_NAME"));
      put("importedKeys", join(md.getImportedKeys(null, "public", "ide_t"), "PKTABLE_NAME"));
      put("exportedKeys", join(md.getExportedKeys(null, "public", "ide_parent"), "FKTABLE_NAME"));
      put("indexes", join(md.getIndexInfo(null, "public", "ide_t", false, false), "INDEX_NAME"));
      put("typeInfo", count(md.getTypeInfo()));
      put("functions", count(md.getFunctions(null, "pg_catalog", "upper")));
      put("procedureColumns", count(md.getProcedureColumns(null, "pg_catalog", "upper", null)));
      put("udts", count(md.getUDTs(null, "public", "%", null)));
      put("identifierQuote", md.getIdentifierQuoteString());
      put("sqlKeywords", md.getSQLKeywords().isEmpty() ? "empty" : "present");
    }
  }

  /** prepareThreshold=5: the fifth execution switches to a named server-side statement; run ten. */
  private static void prepared() throws SQLException {
    try (Connection c = open("dev", "jdbc_user", "prepareThreshold=5")) {
      List<String> named = new ArrayList<>();
      long sum = 0;
      // Named statements of this session (pgjdbc names them S_1, S_2...); the unnamed statement is not listed.
      String ours = "select coalesce(string_agg(name, ','), '-') from pg_prepared_statements where statement like '%* 2 as doubled'";
      try (PreparedStatement p = c.prepareStatement("select ?::int * 2 as doubled")) {
        for (int i = 1; i <= 10; i++) {
          p.setInt(1, i);
          try (ResultSet rs = p.executeQuery()) {
            rs.next();
            sum += rs.getInt(1);
          }
          named.add(one(c, ours));
        }
        put("namedAfterEachExecution", String.join(" ", named));
        put("useServerPrepare", p.unwrap(PGStatement.class).isUseServerPrepare());
        put("sum", sum);
      }
    }
  }

  /** addBatch/executeBatch: pgjdbc sends the whole batch before reading any answer; then a batch that fails midway. */
  private static void batch() throws SQLException {
    try (Connection c = open("dev", "jdbc_batch", "")) {
      try (Statement s = c.createStatement()) {
        s.execute("create table batch_t (id int primary key, v text)");
      }
      c.setAutoCommit(false);
      int total = 0;
      try (PreparedStatement p = c.prepareStatement("insert into batch_t values (?, ?)")) {
        for (int i = 1; i <= 1000; i++) {
          p.setInt(1, i);
          p.setString(2, "row-" + i);
          p.addBatch();
        }
        for (int n : p.executeBatch()) total += n;
      }
      c.commit();
      put("batchUpdated", total);
      put("rows", one(c, "select count(*) from batch_t"));

      try (PreparedStatement p = c.prepareStatement("insert into batch_t values (?, ?)")) {
        for (int id : new int[] {2001, 2002, 5, 2003}) {
          p.setInt(1, id);
          p.setString(2, "again");
          p.addBatch();
        }
        p.executeBatch();
        put("duplicateBatch", "accepted");
      } catch (BatchUpdateException e) {
        SQLException cause = e.getNextException();
        put("duplicateBatch", cause != null ? cause.getSQLState() : e.getSQLState());
      }
      c.rollback();
      put("rowsAfterRollback", one(c, "select count(*) from batch_t"));
    }
  }

  /** Statement.cancel() from another thread sends a CancelRequest on a new connection; the sleep ends with 57014. */
  private static void cancel() throws Exception {
    String sleep = "select pg_sleep(30) /* jdbc cancel */";
    try (Connection c = open("dev", "jdbc_cancel", ""); Connection watcher = open("dev", "jdbc_cancel", "");
         Statement s = c.createStatement()) {
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<String> running = pool.submit(() -> {
          try {
            s.executeQuery(sleep);
            return "completed";
          } catch (SQLException e) {
            return e.getSQLState() + " " + e.getMessage();
          }
        });
        // Wait until the server runs it (a cancel before then would be lost), then cancel.
        long deadline = System.currentTimeMillis() + 10_000;
        try (PreparedStatement q = watcher.prepareStatement("select count(*) from pg_stat_activity where query = ? and state = 'active'")) {
          q.setString(1, sleep);
          for (;;) {
            try (ResultSet rs = q.executeQuery()) {
              rs.next();
              if (rs.getInt(1) > 0) break;
            }
            if (System.currentTimeMillis() > deadline) throw new IllegalStateException("the sleep never started");
            Thread.sleep(20);
          }
        }
        long started = System.nanoTime();
        s.cancel();
        String outcome = running.get(10, TimeUnit.SECONDS);
        put("outcome", outcome);
        put("sqlstate", outcome.substring(0, outcome.indexOf(' ')));
        put("cancelMs", (System.nanoTime() - started) / 1_000_000);
        put("afterCancel", one(c, "select 1"));
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Fetch size with autocommit off: a named portal, Execute with a row limit, 100 rows per round trip. */
  private static void cursor() throws SQLException {
    try (Connection c = open("dev", "jdbc_cursor", "")) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.setFetchSize(100);
        long rows = 0;
        long sum = 0;
        String openPortals = "";
        try (ResultSet rs = s.executeQuery("select g, repeat('x', 200) as pad from generate_series(1, 1000) g")) {
          while (rs.next()) {
            rows++;
            sum += rs.getLong(1);
            // Mid-fetch, the portal pgjdbc bound is open in the server session (pg_cursors lists protocol portals).
            if (rows == 150) openPortals = one(c, "select string_agg(name, ',') from pg_cursors where name <> ''");
          }
        }
        put("rows", rows);
        put("sum", sum);
        put("openPortalsMidFetch", openPortals);
      }
      c.commit();
    }
  }

  /** A replication connection (as a CDC tool opens one) is refused with a clear error. */
  private static void replication() {
    try (Connection c = open("dev", "jdbc_user", "replication=database&assumeMinServerVersion=9.4&preferQueryMode=simple")) {
      put("replication", "connected");
    } catch (SQLException e) {
      put("sqlstate", e.getSQLState());
      put("message", e.getMessage().replace('\n', ' '));
    }
  }

  private static String join(ResultSet rs, String column) throws SQLException {
    List<String> values = new ArrayList<>();
    try (rs) {
      while (rs.next()) values.add(String.valueOf(rs.getString(column)));
    }
    return String.join(",", values);
  }

  private static int count(ResultSet rs) throws SQLException {
    int n = 0;
    try (rs) {
      while (rs.next()) n++;
    }
    return n;
  }
}
