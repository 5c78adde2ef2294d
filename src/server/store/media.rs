//! SQL for media: the `media` record and its bytes in `media_chunks` rows
//! (chunks of [`CHUNK_BYTES`]), so uploads stream in and downloads stream out.
//!
//! A record is `complete = 0` while its upload streams: never shown, never
//! attachable, and swept with its chunks if the upload fails or is abandoned.

use super::db::{Connection, FromColumn, OptionalExtension, Result, ToValue, Value, params};

/// Bytes per `media_chunks` row (the last one of a media may be shorter).
pub const CHUNK_BYTES: usize = 256 * 1024;

impl ToValue for [u8] {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl FromColumn for Vec<u8> {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_pg(r: &postgres::Row, i: usize) -> Result<Self> {
        Ok(r.try_get(i)?)
    }
}

/// One `media` row.
#[derive(Debug, Clone)]
pub struct MediaRow {
    pub sid: String,
    /// The uploader's identity; `None` when the account uploaded it.
    pub author: Option<String>,
    pub content_type: String,
    pub filename: Option<String>,
    pub category: String,
    pub size: i64,
    pub conversation_sid: Option<String>,
    pub message_sid: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

const COLUMNS: &str =
    "sid, author, content_type, filename, category, size, conversation_sid, message_sid, date_created, date_updated";

fn from_row(r: &super::db::Row<'_>) -> Result<MediaRow> {
    Ok(MediaRow {
        sid: r.get(0)?,
        author: r.get(1)?,
        content_type: r.get(2)?,
        filename: r.get(3)?,
        category: r.get(4)?,
        size: r.get(5)?,
        conversation_sid: r.get(6)?,
        message_sid: r.get(7)?,
        date_created: r.get(8)?,
        date_updated: r.get(9)?,
    })
}

/// Starts an upload: the record, not yet complete.
pub fn begin(conn: &Connection, m: &MediaRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO media (sid, author, content_type, filename, category, size, complete, date_created, date_updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?6)",
    )?
    .execute(params![m.sid, m.author, m.content_type, m.filename, m.category, m.date_created])?;
    Ok(())
}

/// Appends chunk `seq` of an upload under way (and marks it alive at `now`).
pub fn append(conn: &Connection, sid: &str, seq: i64, data: &[u8], now: i64) -> Result<()> {
    conn.prepare_cached("INSERT INTO media_chunks (media_sid, seq, data) VALUES (?1, ?2, ?3)")?
        .execute(params![sid, seq, data])?;
    conn.prepare_cached("UPDATE media SET size = size + ?2, date_updated = ?3 WHERE sid = ?1 AND complete = 0")?
        .execute(params![sid, data.len(), now])?;
    Ok(())
}

/// Ends an upload: the record becomes visible. Returns it.
pub fn finish(conn: &Connection, sid: &str, now: i64) -> Result<Option<MediaRow>> {
    conn.prepare_cached("UPDATE media SET complete = 1, date_updated = ?2 WHERE sid = ?1")?
        .execute(params![sid, now])?;
    get(conn, sid)
}

/// A complete media by SID.
pub fn get(conn: &Connection, sid: &str) -> Result<Option<MediaRow>> {
    let sql = format!("SELECT {COLUMNS} FROM media WHERE sid = ?1 AND complete = 1");
    conn.prepare_cached(&sql)?.query_row([sid], from_row).optional()
}

/// Chunk `seq` of a media's bytes (`None` past the last).
pub fn chunk(conn: &Connection, sid: &str, seq: i64) -> Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT data FROM media_chunks WHERE media_sid = ?1 AND seq = ?2")?
        .query_row(params![sid, seq], |r| r.get(0))
        .optional()
}

/// Ties a media to the message that carries it (once: an attached media stays put).
pub fn attach(conn: &Connection, sid: &str, conversation_sid: &str, message_sid: &str) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE media SET conversation_sid = ?2, message_sid = ?3 WHERE sid = ?1 AND message_sid IS NULL",
        )?
        .execute(params![sid, conversation_sid, message_sid])?;
    Ok(n == 1)
}

/// Deletes a media and its bytes, whatever state it is in.
pub fn delete(conn: &Connection, sid: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM media_chunks WHERE media_sid = ?1")?.execute([sid])?;
    conn.prepare_cached("DELETE FROM media WHERE sid = ?1")?.execute([sid])?;
    Ok(())
}

/// Deletes the media a message carries.
pub fn delete_of_message(conn: &Connection, message_sid: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM media_chunks WHERE media_sid IN (SELECT sid FROM media WHERE message_sid = ?1)")?
        .execute([message_sid])?;
    conn.prepare_cached("DELETE FROM media WHERE message_sid = ?1")?.execute([message_sid])?;
    Ok(())
}

/// Deletes the media of every message of a conversation.
pub fn delete_of_conversation(conn: &Connection, conversation_sid: &str) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM media_chunks WHERE media_sid IN (SELECT sid FROM media WHERE conversation_sid = ?1)",
    )?
    .execute([conversation_sid])?;
    conn.prepare_cached("DELETE FROM media WHERE conversation_sid = ?1")?.execute([conversation_sid])?;
    Ok(())
}

/// Sweeps uploads that stopped before `before` without completing (a crash
/// mid-upload, or a cleanup that could not run). Returns how many.
pub fn sweep_incomplete(conn: &Connection, before: i64) -> Result<usize> {
    conn.prepare_cached(
        "DELETE FROM media_chunks WHERE media_sid IN (SELECT sid FROM media WHERE complete = 0 AND date_updated < ?1)",
    )?
    .execute([before])?;
    conn.prepare_cached("DELETE FROM media WHERE complete = 0 AND date_updated < ?1")?.execute([before])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_and_an_unfinished_upload_is_invisible_then_swept() {
        let conn = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.execute_batch(include_str!("media.sql")).unwrap();
        let m = MediaRow {
            sid: "ME1".into(),
            author: Some("alice".into()),
            content_type: "text/plain".into(),
            filename: None,
            category: "media".into(),
            size: 0,
            conversation_sid: None,
            message_sid: None,
            date_created: 10,
            date_updated: 10,
        };
        begin(&conn, &m).unwrap();
        append(&conn, "ME1", 0, &[0, 1, 255], 11).unwrap();
        assert!(get(&conn, "ME1").unwrap().is_none());
        assert_eq!(sweep_incomplete(&conn, 11).unwrap(), 0);
        assert_eq!(sweep_incomplete(&conn, 12).unwrap(), 1);
        assert!(chunk(&conn, "ME1", 0).unwrap().is_none());

        begin(&conn, &MediaRow { sid: "ME2".into(), ..m }).unwrap();
        append(&conn, "ME2", 0, &[9, 8], 11).unwrap();
        let done = finish(&conn, "ME2", 12).unwrap().unwrap();
        assert_eq!(done.size, 2);
        assert_eq!(chunk(&conn, "ME2", 0).unwrap().unwrap(), vec![9, 8]);
        assert!(attach(&conn, "ME2", "CH1", "IM1").unwrap());
        assert!(!attach(&conn, "ME2", "CH1", "IM2").unwrap(), "attached once only");
        delete_of_message(&conn, "IM1").unwrap();
        assert!(get(&conn, "ME2").unwrap().is_none());
        assert!(chunk(&conn, "ME2", 0).unwrap().is_none());
    }
}
