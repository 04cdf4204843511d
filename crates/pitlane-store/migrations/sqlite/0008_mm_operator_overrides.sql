-- Micro Machines decisions an operator takes on the dashboard that the game
-- must not undo. Timestamps are milliseconds since the Unix epoch.

-- Seasons started ahead of the calendar ("start next season now"): season
-- season_id runs from starts_at instead of its calendar date; later seasons
-- keep their calendar dates. One row per season, never rewritten.
CREATE TABLE mm_season_starts (
    season_id  INTEGER PRIMARY KEY,
    starts_at  BIGINT  NOT NULL,
    started_by TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- A name an operator gave a player. While set it wins over the Steam name
-- the game sends with every Login; NULL = follow the Steam name.
ALTER TABLE mm_accounts ADD COLUMN name_override TEXT;
