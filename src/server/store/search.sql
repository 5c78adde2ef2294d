-- Full-text search of message bodies (FTS5, in the bundled SQLite). Messages
-- have no rowid, so each gets a search row: its id is the FTS5 rowid, handed
-- out in the order messages are made, and the order results are listed in
-- (newest first). The FTS5 table keeps only the index (contentless), and
-- triggers keep it current in the same transaction as every write.
CREATE TABLE IF NOT EXISTS message_search_rows (
    id               INTEGER PRIMARY KEY,
    conversation_sid TEXT NOT NULL,
    idx              INTEGER NOT NULL,
    UNIQUE (conversation_sid, idx)
);
CREATE VIRTUAL TABLE IF NOT EXISTS message_search USING fts5(
    body, conversation, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO message_search_rows (conversation_sid, idx)
    SELECT conversation_sid, idx FROM messages ORDER BY date_created, conversation_sid, idx;
INSERT INTO message_search (rowid, body, conversation)
    SELECT r.id, coalesce(m.body, ''), m.conversation_sid
    FROM message_search_rows r JOIN messages m ON m.conversation_sid = r.conversation_sid AND m.idx = r.idx;

CREATE TRIGGER IF NOT EXISTS messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_search_rows (conversation_sid, idx) VALUES (new.conversation_sid, new.idx);
    INSERT INTO message_search (rowid, body, conversation)
        VALUES (last_insert_rowid(), coalesce(new.body, ''), new.conversation_sid);
END;
CREATE TRIGGER IF NOT EXISTS messages_search_update AFTER UPDATE OF body ON messages
WHEN old.body IS NOT new.body BEGIN
    DELETE FROM message_search WHERE rowid =
        (SELECT id FROM message_search_rows WHERE conversation_sid = new.conversation_sid AND idx = new.idx);
    INSERT INTO message_search (rowid, body, conversation)
        SELECT id, coalesce(new.body, ''), new.conversation_sid FROM message_search_rows
        WHERE conversation_sid = new.conversation_sid AND idx = new.idx;
END;
CREATE TRIGGER IF NOT EXISTS messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_search WHERE rowid =
        (SELECT id FROM message_search_rows WHERE conversation_sid = old.conversation_sid AND idx = old.idx);
    DELETE FROM message_search_rows WHERE conversation_sid = old.conversation_sid AND idx = old.idx;
END;
