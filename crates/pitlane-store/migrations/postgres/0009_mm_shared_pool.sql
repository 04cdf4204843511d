-- Micro Machines matchmaking shared by every instance on one database:
-- searches are rows, a formed race is stored with its parties so that a
-- poll answered by any instance reads the same result, and recent waits
-- give the same AverageWaitTime everywhere. Times are Unix milliseconds
-- of the database's clock, so instances need no clock agreement.

CREATE TABLE mm_searches (
    group_lobby_id  BIGINT PRIMARY KEY,
    user_id         BIGINT NOT NULL,
    steam_id        BIGINT NOT NULL,
    game_type       TEXT   NOT NULL,
    rule_set        TEXT   NOT NULL,
    ranking         TEXT   NOT NULL,
    network_version BIGINT NOT NULL,
    group_size      BIGINT NOT NULL,
    skill           BIGINT NOT NULL,
    game_lobby_id   BIGINT NOT NULL,
    started_ms      BIGINT NOT NULL,
    last_seen_ms    BIGINT NOT NULL,
    -- Polls held now, trusted only until held_until_ms: an instance that
    -- dies mid-poll never decrements its count.
    active_polls    BIGINT NOT NULL,
    held_until_ms   BIGINT NOT NULL,
    -- The race the party was placed in and not yet told about.
    assigned        TEXT
);
CREATE INDEX mm_searches_queue ON mm_searches (rule_set, game_type, ranking, network_version);
CREATE INDEX mm_searches_user ON mm_searches (user_id);

CREATE TABLE mm_matches (
    race_key        TEXT   PRIMARY KEY,
    session_id      BIGINT NOT NULL,
    game_type       TEXT   NOT NULL,
    rule_set        TEXT   NOT NULL,
    ranking         TEXT   NOT NULL,
    network_version BIGINT NOT NULL,
    host_skill      BIGINT NOT NULL,
    formed_ms       BIGINT NOT NULL,
    started         BIGINT NOT NULL DEFAULT 0,
    teams           BIGINT NOT NULL,
    max_players     BIGINT NOT NULL
);
CREATE INDEX mm_matches_formed ON mm_matches (formed_ms);

CREATE TABLE mm_match_members (
    race_key       TEXT   NOT NULL REFERENCES mm_matches(race_key) ON DELETE CASCADE,
    group_lobby_id BIGINT NOT NULL,
    position       BIGINT NOT NULL,
    game_lobby_id  BIGINT NOT NULL,
    group_size     BIGINT NOT NULL,
    is_host        BIGINT NOT NULL,
    team           BIGINT NOT NULL,
    PRIMARY KEY (race_key, group_lobby_id)
);

CREATE TABLE mm_waits (
    id      BIGSERIAL PRIMARY KEY,
    ranked  BIGINT           NOT NULL,
    seconds DOUBLE PRECISION NOT NULL
);
