-- The cluster's event log (PostgreSQL migration 2): every committed write batch
-- that has effects appends one row, its position taken from `event_head` under
-- that row's lock, which each batch takes first: so positions are handed out in
-- commit order and an instance that has applied position N has seen all below.
CREATE TABLE IF NOT EXISTS event_head (
    one      BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    position BIGINT NOT NULL
);
INSERT INTO event_head (one, position) VALUES (TRUE, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS events (
    position BIGINT PRIMARY KEY,
    -- the instance that wrote it (for logs and tests)
    origin   TEXT NOT NULL,
    -- JSON array of the batch's effects (see server::cluster)
    effects  TEXT NOT NULL,
    created  BIGINT NOT NULL
);
