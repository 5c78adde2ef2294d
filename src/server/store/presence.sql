-- Presence (Twilio's reachability): which instance holds an open /v1/Stream
-- of which identity. Each instance renews its lease while it runs; the rows of
-- an instance whose lease lapsed (killed, cut off) are swept by any other, and
-- the users it kept online are told they went offline. See src/server/presence.rs.
CREATE TABLE IF NOT EXISTS presence_instances (
    instance    TEXT PRIMARY KEY,
    lease_until BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS presence (
    identity TEXT NOT NULL,
    instance TEXT NOT NULL,
    PRIMARY KEY (identity, instance)
);
CREATE INDEX IF NOT EXISTS presence_by_instance ON presence(instance);
-- Reachability is on by default on this server (Twilio's default is off);
-- before this version the flag had no effect, so it is turned on here once.
UPDATE service_configuration SET reachability_enabled = 1;
