-- One session per account, as Login has always meant it (each Login ends the
-- account's earlier session): a unique user_id lets Login replace the
-- session in one upsert instead of a delete-then-insert transaction (one
-- round trip to the writer instead of four), and two Logins racing each
-- other can no longer both keep a session.
DELETE FROM mm_sessions
WHERE EXISTS (
    SELECT 1 FROM mm_sessions newer
    WHERE newer.user_id = mm_sessions.user_id
      AND (newer.issued_at > mm_sessions.issued_at
           OR (newer.issued_at = mm_sessions.issued_at
               AND newer.token_digest > mm_sessions.token_digest))
);
DROP INDEX mm_sessions_user;
CREATE UNIQUE INDEX mm_sessions_one_per_user ON mm_sessions (user_id);
