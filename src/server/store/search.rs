//! SQL for full-text search of messages: FTS5 on SQLite, a tsvector under GIN on
//! PostgreSQL (see `search.sql`, `search_pg.sql`); results newest first by a key.
//!
//! The key is the FTS5 rowid (SQLite) or `messages.search_id` (PostgreSQL),
//! both handed out as messages are made, so a page is "matches with a key
//! below k, highest first", a keyset window like every other list here. The
//! parsed terms are quoted here for each engine: no text of the caller's
//! reaches either engine's query syntax.

use super::db::{Connection, Kind, Result, ToValue};
use super::rows::MessageRow;
use crate::api::search::Term;
use crate::server::paging::Window;

/// Who and where: every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this conversation (a SID).
    pub conversation: Option<String>,
    /// Only messages by this author.
    pub author: Option<String>,
    /// Only conversations this identity takes part in (a person's search).
    pub reader: Option<String>,
}

/// One window of matches as `(key, message)`; `terms` must not be empty.
pub fn scan(conn: &Connection, terms: &[Term], f: &Filter, w: Window) -> Result<Vec<(i64, MessageRow)>> {
    match conn.kind() {
        Kind::Sqlite => scan_sqlite(conn, terms, f, w),
        Kind::Postgres => scan_pg(conn, terms, f, w),
    }
}

fn scan_sqlite(conn: &Connection, terms: &[Term], f: &Filter, w: Window) -> Result<Vec<(i64, MessageRow)>> {
    let mut query = format!("body : ({})", fts5_query(terms));
    if let Some(c) = &f.conversation {
        query.push_str(&format!(" AND conversation : \"{}\"", only_word_chars(c)));
    }
    let order = if w.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {}, s.rowid FROM message_search s \
         JOIN message_search_rows r ON r.id = s.rowid \
         JOIN messages m ON m.conversation_sid = r.conversation_sid AND m.idx = r.idx \
         WHERE message_search MATCH ?1 AND s.rowid > ?2 AND s.rowid < ?3 \
         AND (?5 IS NULL OR m.author = ?5) \
         AND (?6 IS NULL OR EXISTS (SELECT 1 FROM participants p \
              WHERE p.conversation_sid = r.conversation_sid AND p.identity = ?6)) \
         ORDER BY s.rowid {order} LIMIT ?4",
        MessageRow::COLUMNS
    );
    let values: [&dyn ToValue; 6] = [&query, &w.lo, &w.hi, &w.limit, &f.author, &f.reader];
    conn.prepare_cached(&sql)?.query_map(&values[..], keyed)?.collect()
}

/// PostgreSQL plans a full-text query by how common its words are, which a
/// parameter would hide (a generic plan): so the tsquery, made only of
/// letters and digits in quotes, is written into the statement, and only the
/// filters the request has are in it. Such SQL differs with every query, so
/// it is prepared for the one use and never cached (a cache would grow with
/// every distinct search, on this side and in the server's session).
fn scan_pg(conn: &Connection, terms: &[Term], f: &Filter, w: Window) -> Result<Vec<(i64, MessageRow)>> {
    let order = if w.descending { "DESC" } else { "ASC" };
    let mut sql = format!(
        "SELECT {}, m.search_id FROM messages m WHERE m.search @@ to_tsquery('simple', '{}') \
         AND m.search_id > ?1 AND m.search_id < ?2",
        MessageRow::COLUMNS,
        tsquery(terms).replace('\'', "''")
    );
    let mut values: Vec<&dyn ToValue> = vec![&w.lo, &w.hi, &w.limit];
    for (clause, value) in [
        ("m.conversation_sid = ?N", &f.conversation),
        ("m.author = ?N", &f.author),
        (
            "EXISTS (SELECT 1 FROM participants p WHERE p.conversation_sid = m.conversation_sid AND p.identity = ?N)",
            &f.reader,
        ),
    ] {
        if let Some(v) = value {
            values.push(v);
            sql.push_str(&format!(" AND {}", clause.replace("?N", &format!("?{}", values.len()))));
        }
    }
    sql.push_str(&format!(" ORDER BY m.search_id {order} LIMIT ?3"));
    conn.prepare_uncached(&sql)?.query_map(&values[..], keyed)?.collect()
}

fn keyed(r: &super::db::Row<'_>) -> Result<(i64, MessageRow)> {
    Ok((r.get(11)?, MessageRow::from_row(r)?))
}

/// Letters and digits only: what a quoted word of either engine may hold
/// (the parser already cut words so; this keeps it true here, where it matters).
fn only_word_chars(w: &str) -> String {
    w.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// FTS5: `"word" AND "two words" AND "pre"*`.
fn fts5_query(terms: &[Term]) -> String {
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| {
            let words: Vec<String> = t.words.iter().map(|w| only_word_chars(w)).collect();
            format!("\"{}\"{}", words.join(" "), if t.prefix { "*" } else { "" })
        })
        .collect();
    quoted.join(" AND ")
}

/// PostgreSQL: `('word') & ('two' <-> 'words') & ('pre':*)`.
fn tsquery(terms: &[Term]) -> String {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| {
            let n = t.words.len();
            let words: Vec<String> = t
                .words
                .iter()
                .enumerate()
                .map(|(i, w)| format!("'{}'{}", only_word_chars(w), if t.prefix && i + 1 == n { ":*" } else { "" }))
                .collect();
            format!("({})", words.join(" <-> "))
        })
        .collect();
    parts.join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::search::parse;

    #[test]
    fn queries_quote_every_word_for_each_engine() {
        let terms = parse("it's \"a b\" quok* x'); DROP");
        assert_eq!(fts5_query(&terms), "\"it s\" AND \"a b\" AND \"quok\"* AND \"x\" AND \"drop\"");
        assert_eq!(tsquery(&terms), "('it' <-> 's') & ('a' <-> 'b') & ('quok':*) & ('x') & ('drop')");
    }

    /// Distinct searches leave no statement prepared on PostgreSQL (when the
    /// tests have one: scripts/test sets CONVO_TEST_DATABASE_URL).
    #[test]
    fn postgres_searches_are_not_kept_prepared() {
        let Ok(server) = std::env::var("CONVO_TEST_DATABASE_URL") else {
            eprintln!("skipped: CONVO_TEST_DATABASE_URL is not set (scripts/test sets it)");
            return;
        };
        let name = format!("search_{}", uuid::Uuid::new_v4().simple());
        let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (head, _) = server.rsplit_once('/').unwrap();
        let client = postgres::Client::connect(&format!("{head}/{name}"), postgres::NoTls).unwrap();
        let conn = Connection::Pg(super::super::db::PgConn::new(client));
        use super::super::db::params;
        conn.execute_batch(include_str!("schema_pg.sql")).unwrap();
        conn.execute_batch(include_str!("search_pg.sql")).unwrap();
        conn.execute_batch(
            "INSERT INTO messages (conversation_sid, idx, sid, body, date_created) \
             VALUES ('CH1', 0, 'IM1', 'word7 and word8', 0)",
        )
        .unwrap();
        let w = Window { lo: 0, hi: i64::MAX, limit: 10, descending: true };
        for i in 0..20 {
            let found = scan(&conn, &parse(&format!("word{i}")), &Filter::default(), w).unwrap();
            assert_eq!(found.len(), usize::from(i == 7 || i == 8), "word{i}");
        }
        let prepared: i64 =
            conn.query_row("SELECT count(*) FROM pg_prepared_statements", params![], |r| r.get(0)).unwrap();
        assert_eq!(prepared, 1, "only the count itself is prepared");
        drop(conn);
        admin.batch_execute(&format!("DROP DATABASE {name}")).unwrap();
    }

    fn plan(conn: &rusqlite::Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(std::result::Result::unwrap).collect::<Vec<_>>().join(" | ")
    }

    /// The FTS5 index drives the query, in key order: no sort, no table scan.
    #[test]
    fn sqlite_search_is_driven_by_the_index_in_key_order() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("schema.sql")).unwrap();
        conn.execute_batch(include_str!("search.sql")).unwrap();
        let sql = format!(
            "SELECT {}, s.rowid FROM message_search s JOIN message_search_rows r ON r.id = s.rowid \
             JOIN messages m ON m.conversation_sid = r.conversation_sid AND m.idx = r.idx \
             WHERE message_search MATCH 'x' AND s.rowid > 0 AND s.rowid < 100 \
             AND EXISTS (SELECT 1 FROM participants p WHERE p.conversation_sid = r.conversation_sid AND p.identity = 'a') \
             ORDER BY s.rowid DESC LIMIT 51",
            MessageRow::COLUMNS
        );
        let p = plan(&conn, &sql);
        assert!(p.starts_with("SCAN s VIRTUAL TABLE INDEX"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "{p}");
    }
}
