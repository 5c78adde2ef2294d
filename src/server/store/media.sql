-- Media (Twilio's Media Content Service): one row per upload, its bytes in
-- 256 KiB chunks so every instance of a cluster serves every media.
-- `complete` is 0 while the upload streams in: such a row is never shown, and
-- a failed or abandoned one is swept with its chunks.
CREATE TABLE IF NOT EXISTS media (
    sid              TEXT PRIMARY KEY,
    author           TEXT,              -- the uploader's identity (NULL: the account)
    content_type     TEXT NOT NULL,
    filename         TEXT,
    category         TEXT NOT NULL DEFAULT 'media',
    size             BIGINT NOT NULL DEFAULT 0,
    conversation_sid TEXT,              -- set once, when a message attaches it
    message_sid      TEXT,
    complete         INTEGER NOT NULL DEFAULT 0,
    date_created     BIGINT NOT NULL,
    date_updated     BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS media_message ON media(message_sid);
CREATE INDEX IF NOT EXISTS media_conversation ON media(conversation_sid);
CREATE TABLE IF NOT EXISTS media_chunks (
    media_sid TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (media_sid, seq)
);
