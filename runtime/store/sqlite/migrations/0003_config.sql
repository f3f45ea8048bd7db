-- Configuration values. A secret's value is AES-256-GCM ciphertext (standard
-- base64) and key_id names the encryption key that sealed it.
CREATE TABLE bifrost_config (
    name       TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    secret     INTEGER NOT NULL DEFAULT 0,
    key_id     TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
