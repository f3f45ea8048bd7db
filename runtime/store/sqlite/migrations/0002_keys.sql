-- API keys: bf_<id>_<secret>, stored as the SHA-256 of the secret only.
-- workflows is a JSON array of the workflows a scoped key may call; NULL for
-- a global key.
CREATE TABLE bifrost_keys (
    id           TEXT PRIMARY KEY,
    hash         TEXT    NOT NULL,
    workflows    TEXT,
    description  TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0,
    last_used_at INTEGER NOT NULL DEFAULT 0
);
