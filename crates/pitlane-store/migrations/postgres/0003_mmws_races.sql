-- Micro Machines World Series: races made by matchmaking or registered by
-- clients, who was in them, and the points each player claimed for them.

CREATE TABLE mm_counters (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO mm_counters (name, value) VALUES ('session_id', 0);

CREATE TABLE mm_races (
    race_key         TEXT   PRIMARY KEY,
    session_id       BIGINT NOT NULL,
    game_type        TEXT   NOT NULL,
    rule_set         TEXT   NOT NULL,
    ranking          TEXT   NOT NULL,
    network_version  BIGINT NOT NULL,
    season_id        BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    registered_at    BIGINT,
    seconds_to_match BIGINT
);
CREATE INDEX mm_races_created ON mm_races (created_at);

CREATE TABLE mm_race_players (
    race_key     TEXT   NOT NULL REFERENCES mm_races(race_key) ON DELETE CASCADE,
    steam_id     BIGINT NOT NULL,
    points_delta BIGINT,
    points_at    BIGINT,
    PRIMARY KEY (race_key, steam_id)
);
CREATE INDEX mm_race_players_steam ON mm_race_players (steam_id);
