-- Micro Machines World Series: accounts, sessions and season scores.
-- Timestamps are milliseconds since the Unix epoch (same on both backends).

CREATE TABLE mm_accounts (
    user_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    steam_id       BIGINT  NOT NULL UNIQUE,
    user_facing_id TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    level          INTEGER NOT NULL DEFAULT 0,
    prestige       INTEGER NOT NULL DEFAULT 0,
    created_at     BIGINT  NOT NULL,
    last_seen_at   BIGINT  NOT NULL
);

CREATE TABLE mm_account_names (
    user_id       BIGINT NOT NULL REFERENCES mm_accounts(user_id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, name)
);

CREATE TABLE mm_sessions (
    token_digest TEXT    PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES mm_accounts(user_id) ON DELETE CASCADE,
    issued_at    BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    client_addr  TEXT    NOT NULL,
    config_hash  INTEGER NOT NULL
);
CREATE INDEX mm_sessions_user ON mm_sessions (user_id);
CREATE INDEX mm_sessions_expiry ON mm_sessions (expires_at);

CREATE TABLE mm_scores (
    season_id  INTEGER NOT NULL,
    user_id    BIGINT  NOT NULL REFERENCES mm_accounts(user_id) ON DELETE CASCADE,
    points     BIGINT  NOT NULL,
    division   INTEGER NOT NULL,
    reached_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (season_id, user_id)
);
-- The leaderboard order: points first, then who reached them first.
CREATE INDEX mm_scores_ranking ON mm_scores (season_id, points DESC, reached_at, user_id);
