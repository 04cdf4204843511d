-- The operator's dashboard: operator accounts, their sessions, failed
-- dashboard logins, the audit log, and Micro Machines bans.
-- Timestamps are milliseconds since the Unix epoch (same on both backends).

CREATE TABLE admin_accounts (
    admin_id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT   NOT NULL,
    -- ASCII-lower-cased name: unique regardless of case on both engines.
    name_key            TEXT   NOT NULL UNIQUE,
    -- argon2 PHC string; the password itself is never stored.
    password_hash       TEXT   NOT NULL,
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    last_login_at       BIGINT
);

-- Only a SHA-256 digest of each session cookie is kept, so a copy of the
-- database does not let anyone act as a logged-in operator. The CSRF token
-- is not a credential on its own (it is useless without the cookie).
CREATE TABLE admin_sessions (
    token_digest TEXT   PRIMARY KEY,
    admin_id     BIGINT NOT NULL REFERENCES admin_accounts(admin_id) ON DELETE CASCADE,
    csrf_token   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    client_addr  TEXT   NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);

-- Failed dashboard logins per name and per client address, in the database
-- so that every instance sharing it throttles alike.
CREATE TABLE admin_login_failures (
    scope     TEXT   NOT NULL,
    subject   TEXT   NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX admin_login_failures_subject ON admin_login_failures (scope, subject, failed_at);
CREATE INDEX admin_login_failures_age ON admin_login_failures (failed_at);

-- Every change an operator makes through the dashboard. Names, not ids:
-- the log must still read right after an account is deleted.
CREATE TABLE admin_audit (
    audit_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    at         BIGINT NOT NULL,
    admin_name TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    target     TEXT   NOT NULL,
    reason     TEXT   NOT NULL,
    detail     TEXT   NOT NULL
);
CREATE INDEX admin_audit_at ON admin_audit (at);
CREATE INDEX admin_audit_target ON admin_audit (target, at);

-- Micro Machines bans, by SteamID64 rather than account number: the Steam
-- id is what the player cannot change, and the ban holds even before (or
-- after) an account exists. Banned while banned_until is NULL (for good) or
-- later than now.
CREATE TABLE mm_bans (
    steam_id     BIGINT PRIMARY KEY,
    banned_at    BIGINT NOT NULL,
    banned_until BIGINT,
    reason       TEXT   NOT NULL,
    banned_by    TEXT   NOT NULL
);
