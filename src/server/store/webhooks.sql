-- Webhooks: their configuration at three scopes, and the durable outbox of
-- post-event deliveries. Plain SQL that PostgreSQL also takes.

-- The account's (`/v1/Configuration/Webhooks`) and the service's
-- (`/v1/Services/{IS}/Configuration/Webhooks`) configuration: one row each.
CREATE TABLE IF NOT EXISTS webhook_scopes (
    scope      TEXT PRIMARY KEY,          -- 'account' or 'service'
    method     TEXT NOT NULL DEFAULT 'POST',
    filters    TEXT NOT NULL DEFAULT '[]', -- JSON array of event names
    pre_url    TEXT,
    post_url   TEXT,
    target     TEXT NOT NULL DEFAULT 'webhook'
);

-- `/v1/Conversations/{CH}/Webhooks/{WH}`.
CREATE TABLE IF NOT EXISTS conversation_webhooks (
    id               INTEGER PRIMARY KEY,
    sid              TEXT NOT NULL UNIQUE,
    conversation_sid TEXT NOT NULL,
    target           TEXT NOT NULL,
    url              TEXT,
    method           TEXT NOT NULL DEFAULT 'post',
    filters          TEXT NOT NULL DEFAULT '[]', -- JSON array
    triggers         TEXT NOT NULL DEFAULT '[]', -- JSON array
    flow_sid         TEXT,
    replay_after     INTEGER,
    date_created     INTEGER NOT NULL,
    date_updated     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conversation_webhooks_conv ON conversation_webhooks(conversation_sid, id);

-- Conversations whose state is not 'active', as last seen by the webhook tap,
-- so a state change can name the state it came from (onConversationStateUpdated).
CREATE TABLE IF NOT EXISTS webhook_conversation_states (
    conversation_sid TEXT PRIMARY KEY,
    state            TEXT NOT NULL
);

-- Post-event deliveries owed, written in the transaction of the change that
-- caused them. A lane (a conversation, or a user) is delivered to one URL in
-- id order: only the lowest id of a (lane, url) is ever claimed. A claim is a
-- row update (claimed_until); a failure bumps attempts and next_attempt_at.
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id              INTEGER PRIMARY KEY,
    lane            TEXT NOT NULL,
    url             TEXT NOT NULL,
    method          TEXT NOT NULL,
    params          TEXT NOT NULL,            -- JSON array of [name, value] pairs
    token           TEXT NOT NULL,            -- I-Twilio-Idempotency-Token, the same on every attempt
    created         INTEGER NOT NULL,         -- Unix seconds
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,         -- Unix milliseconds
    claimed_until   INTEGER                   -- Unix milliseconds; NULL when unclaimed
);
CREATE INDEX IF NOT EXISTS webhook_outbox_lane ON webhook_outbox(lane, url, id);
