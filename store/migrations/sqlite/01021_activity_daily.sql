-- +goose Up
-- Sign-ins and tokens issued per UTC day, for the platform home's chart.
-- Each replica adds what it counted every half minute (an upsert adding
-- to n), so the row is the sum over replicas.
CREATE TABLE activity_daily (
    day  INTEGER NOT NULL,
    kind TEXT NOT NULL,
    n    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind)
);

-- +goose Down
DROP TABLE activity_daily;
