-- convo-tui server schema. Dates are Unix seconds; attributes are JSON text.
-- Messages are keyed by (conversation_sid, idx) so a page of history anywhere
-- in a conversation is one range scan of the primary key, never an OFFSET.
PRAGMA foreign_keys = OFF;

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS conversations (
    id                    INTEGER PRIMARY KEY,
    sid                   TEXT NOT NULL UNIQUE,
    unique_name           TEXT UNIQUE,
    friendly_name         TEXT,
    attributes            TEXT NOT NULL DEFAULT '{}',
    state                 TEXT NOT NULL DEFAULT 'active',
    messaging_service_sid TEXT,
    date_created          INTEGER NOT NULL,
    date_updated          INTEGER NOT NULL,
    date_inactive         INTEGER,
    date_closed           INTEGER,
    bindings              TEXT,
    created_by            TEXT,
    -- the next message index to hand out: only grows, so deletes leave gaps
    next_index            INTEGER NOT NULL DEFAULT 0,
    messages_count        INTEGER NOT NULL DEFAULT 0,
    participants_count    INTEGER NOT NULL DEFAULT 0,
    last_message_index    INTEGER,
    last_message_date     INTEGER
);
CREATE INDEX IF NOT EXISTS conversations_state ON conversations(state, id);
CREATE INDEX IF NOT EXISTS conversations_created ON conversations(date_created, id);

CREATE TABLE IF NOT EXISTS messages (
    conversation_sid TEXT NOT NULL,
    idx              INTEGER NOT NULL,
    sid              TEXT NOT NULL,
    author           TEXT,
    body             TEXT,
    attributes       TEXT NOT NULL DEFAULT '{}',
    participant_sid  TEXT,
    date_created     INTEGER NOT NULL,
    date_updated     INTEGER,
    media            TEXT,
    content_sid      TEXT,
    PRIMARY KEY (conversation_sid, idx)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS messages_sid ON messages(sid);

-- Indexes of deleted messages. Deletes are rare, so "messages after the read
-- horizon h" = (indexes handed out after h) - (deleted indexes after h) is two
-- small look-ups, however long the conversation.
CREATE TABLE IF NOT EXISTS deleted_messages (
    conversation_sid TEXT NOT NULL,
    idx              INTEGER NOT NULL,
    PRIMARY KEY (conversation_sid, idx)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS participants (
    id                 INTEGER PRIMARY KEY,
    sid                TEXT NOT NULL UNIQUE,
    conversation_sid   TEXT NOT NULL,
    identity           TEXT,
    attributes         TEXT NOT NULL DEFAULT '{}',
    -- messaging binding (SMS-style participants): JSON object, and its address for look-ups
    binding            TEXT,
    address            TEXT,
    proxy_address      TEXT,
    role_sid           TEXT,
    date_created       INTEGER NOT NULL,
    date_updated       INTEGER NOT NULL,
    last_read_index    INTEGER,
    last_read_ts       INTEGER,
    notification_level TEXT NOT NULL DEFAULT 'default'
);
CREATE UNIQUE INDEX IF NOT EXISTS participants_identity ON participants(conversation_sid, identity);
CREATE INDEX IF NOT EXISTS participants_conv ON participants(conversation_sid, id);
CREATE INDEX IF NOT EXISTS participants_by_identity ON participants(identity, id);
CREATE INDEX IF NOT EXISTS participants_by_address ON participants(address, id);

CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    sid           TEXT NOT NULL UNIQUE,
    identity      TEXT NOT NULL UNIQUE,
    friendly_name TEXT,
    attributes    TEXT NOT NULL DEFAULT '{}',
    role_sid      TEXT,
    date_created  INTEGER NOT NULL,
    date_updated  INTEGER NOT NULL
);

-- Idempotency-Key of POST …/Messages: the message a caller's key made, kept 24 h.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    caller       TEXT NOT NULL,
    key          TEXT NOT NULL,
    message_sid  TEXT NOT NULL,
    created      INTEGER NOT NULL,
    PRIMARY KEY (caller, key)
) WITHOUT ROWID;

-- Roles (Twilio's Role resource): `type` is conversation or service,
-- `permissions` a JSON array of permission names. The default roles and the
-- configuration rows below are made on first start (server::ops::roles), which
-- is also when participants and users from before roles get their roles.
CREATE TABLE IF NOT EXISTS roles (
    id            INTEGER PRIMARY KEY,
    sid           TEXT NOT NULL UNIQUE,
    friendly_name TEXT NOT NULL,
    type          TEXT NOT NULL,
    permissions   TEXT NOT NULL,
    date_created  INTEGER NOT NULL,
    date_updated  INTEGER NOT NULL
);

-- The service's configuration (one row per service): default roles, reachability.
CREATE TABLE IF NOT EXISTS service_configuration (
    service_sid                           TEXT PRIMARY KEY,
    default_conversation_creator_role_sid TEXT,
    default_conversation_role_sid         TEXT,
    default_chat_service_role_sid         TEXT,
    reachability_enabled                  INTEGER NOT NULL DEFAULT 0
);

-- The account's configuration (one row, id 1): defaults for new conversations.
-- Timers are ISO-8601 durations as given (e.g. PT1H).
CREATE TABLE IF NOT EXISTS account_configuration (
    id                            INTEGER PRIMARY KEY,
    default_chat_service_sid      TEXT,
    default_messaging_service_sid TEXT,
    default_inactive_timer        TEXT,
    default_closed_timer          TEXT
);
