-- One row per running Pitlane instance, rewritten every few seconds: live
-- views add up the instances whose last beat is recent.
CREATE TABLE instances (
    instance_id          TEXT   PRIMARY KEY,
    address              TEXT   NOT NULL,
    version              TEXT   NOT NULL,
    started_at           BIGINT NOT NULL,
    last_beat            BIGINT NOT NULL,
    mm_polls_held        BIGINT NOT NULL,
    mm_searching_parties BIGINT NOT NULL,
    mm_searching_players BIGINT NOT NULL,
    mm_races_formed      BIGINT NOT NULL,
    mco_lobby_online     BIGINT NOT NULL,
    requests_per_second  REAL NOT NULL
);
