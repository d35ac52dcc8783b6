-- +goose Up
-- A secret or link made by a form, held sealed for the browser session that
-- made it until its page is first shown (post/redirect/get): reloading the
-- page shows nothing new and creates nothing. Rows live minutes.
CREATE TABLE one_time_reveals (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX one_time_reveals_expires ON one_time_reveals (expires_at);

-- +goose Down
DROP TABLE one_time_reveals;
