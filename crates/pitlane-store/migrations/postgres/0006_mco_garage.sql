-- Motor City Online: what a persona owns and how it looks in the game.
-- Money is a column with a CHECK so that no bug, crash or race can leave a
-- persona in debt: the purchase debits with "WHERE bank >= price" inside
-- the transaction that creates the car.

-- Part (and car) ids come from the same counter table as customers and
-- personas; a car's id is the id of its root part, as in the original
-- database, and both must fit the u32 the wire carries.
INSERT INTO mco_counters (name, next_value) VALUES ('part', 1);

CREATE TABLE mco_players (
    persona_id        BIGINT  PRIMARY KEY REFERENCES mco_personas(persona_id) ON DELETE CASCADE,
    bank              BIGINT  NOT NULL CHECK (bank >= 0),
    cars_owned        BIGINT  NOT NULL DEFAULT 0,
    current_vehicle   BIGINT,
    plate_code        BIGINT  NOT NULL DEFAULT 0,
    plate_text        TEXT    NOT NULL DEFAULT '',
    car_info_settings BIGINT  NOT NULL DEFAULT 0,
    -- Six car numbers of up to three characters, '/'-separated.
    car_numbers       TEXT    NOT NULL DEFAULT '',
    body_type         BIGINT  NOT NULL DEFAULT 0,
    hair_color        BIGINT  NOT NULL DEFAULT 0,
    skin_color        BIGINT  NOT NULL DEFAULT 0,
    shirt_color       BIGINT  NOT NULL DEFAULT 0,
    pants_color       BIGINT  NOT NULL DEFAULT 0,
    created_at        BIGINT  NOT NULL
);

CREATE TABLE mco_vehicles (
    vehicle_id      BIGINT  PRIMARY KEY,
    persona_id      BIGINT  NOT NULL REFERENCES mco_personas(persona_id) ON DELETE CASCADE,
    branded_part_id BIGINT  NOT NULL,
    skin_id         BIGINT  NOT NULL,
    price_paid      BIGINT  NOT NULL,
    bought_at       BIGINT  NOT NULL
);
CREATE INDEX mco_vehicles_persona ON mco_vehicles (persona_id, vehicle_id);

-- Every part of every car, as a tree (parent NULL for the car's root part).
CREATE TABLE mco_parts (
    part_id          BIGINT  PRIMARY KEY,
    vehicle_id       BIGINT  NOT NULL REFERENCES mco_vehicles(vehicle_id) ON DELETE CASCADE,
    parent_part_id   BIGINT,
    branded_part_id  BIGINT  NOT NULL,
    attachment_point BIGINT  NOT NULL,
    wear             BIGINT  NOT NULL DEFAULT 0,
    damage           BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX mco_parts_vehicle ON mco_parts (vehicle_id, part_id);
