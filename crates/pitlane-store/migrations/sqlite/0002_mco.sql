-- Motor City Online: accounts, AuthLogin tickets, NPS session keys,
-- personas and login-failure records.
-- Timestamps are milliseconds since the Unix epoch (same on both backends).
-- Names are unique through a *_key column that the application fills with
-- the ASCII-lower-cased name, so both engines fold case identically (their
-- lower() functions disagree outside ASCII).

-- Customer and persona ids are allocated here instead of by an identity
-- column so that explicit ids (imports from a community server, the ids of
-- the captured sessions in tests) move the counter forward on PostgreSQL as
-- they do on SQLite. Both must fit the u32 the wire carries.
CREATE TABLE mco_counters (
    name       TEXT   PRIMARY KEY,
    next_value BIGINT NOT NULL
);
INSERT INTO mco_counters (name, next_value) VALUES ('customer', 1), ('persona', 1);

CREATE TABLE mco_accounts (
    customer_id   INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL UNIQUE,
    -- argon2 PHC string; the password itself is never stored.
    password_hash TEXT    NOT NULL,
    -- Banned while banned_at is set and banned_until is NULL (for good) or
    -- later than now.
    banned_at     BIGINT,
    banned_until  BIGINT,
    ban_reason    TEXT,
    created_at    BIGINT  NOT NULL,
    last_login_at BIGINT
);

-- Only a SHA-256 digest of each ticket is kept: a copy of the database must
-- not let anyone log in as the players who are between AuthLogin and 0x501.
CREATE TABLE mco_tickets (
    ticket_digest TEXT   PRIMARY KEY,
    customer_id   BIGINT NOT NULL REFERENCES mco_accounts(customer_id) ON DELETE CASCADE,
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    client_addr   TEXT   NOT NULL
);
CREATE INDEX mco_tickets_customer ON mco_tickets (customer_id);
CREATE INDEX mco_tickets_expiry ON mco_tickets (expires_at);

CREATE TABLE mco_personas (
    persona_id       INTEGER PRIMARY KEY,
    customer_id      BIGINT  NOT NULL REFERENCES mco_accounts(customer_id) ON DELETE CASCADE,
    shard_id         BIGINT  NOT NULL,
    name             TEXT    NOT NULL,
    name_key         TEXT    NOT NULL UNIQUE,
    created_at       BIGINT  NOT NULL,
    last_selected_at BIGINT
);
CREATE INDEX mco_personas_customer ON mco_personas (customer_id, persona_id);

-- One live NPS session per customer: the key the client chose at 0x501 (hex;
-- the lobby and MCOTS connections need it in clear) and the persona picked
-- with 0x503, which is how a lobby login naming only the persona finds it.
CREATE TABLE mco_sessions (
    customer_id INTEGER PRIMARY KEY REFERENCES mco_accounts(customer_id) ON DELETE CASCADE,
    session_key TEXT    NOT NULL,
    key_expiry  BIGINT  NOT NULL,
    started_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    persona_id  BIGINT  REFERENCES mco_personas(persona_id) ON DELETE SET NULL,
    shard_id    BIGINT
);
CREATE INDEX mco_sessions_expiry ON mco_sessions (expires_at);
CREATE INDEX mco_sessions_persona ON mco_sessions (persona_id);

-- Failed AuthLogin attempts, per account name and per client address, kept
-- in the database so that every instance sharing it throttles alike.
CREATE TABLE mco_login_failures (
    scope     TEXT   NOT NULL,
    subject   TEXT   NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX mco_login_failures_subject ON mco_login_failures (scope, subject, failed_at);
CREATE INDEX mco_login_failures_age ON mco_login_failures (failed_at);
