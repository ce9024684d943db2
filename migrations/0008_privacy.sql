-- Activity tracking in one place and one lock order, users' erasure of their own data, dead
-- letters an admin can retry, and the indexes the admin panel's queries use.

-- Every message, photo, new dialog and any other update of a user is counted here: their
-- retention row first, then the day's activity row — always in that order, so concurrent
-- writers (fn-updates, fn-image) never wait on each other in opposite orders. Days follow the
-- session's TimeZone (`ADMIN_TZ`, set on every connection); a session starts after
-- `app.session_gap_minutes` idle minutes (`SESSION_GAP_MINUTES`, default 30).
CREATE FUNCTION track_activity(p_user BIGINT, p_messages INT, p_photos INT, p_dialogs INT)
RETURNS INT LANGUAGE plpgsql AS $$
DECLARE
    v_gap INTERVAL := make_interval(mins => COALESCE(
        NULLIF(current_setting('app.session_gap_minutes', true), ''), '30')::int);
BEGIN
    INSERT INTO user_retention AS r (user_id, total_messages, total_photos)
    VALUES (p_user, p_messages, p_photos)
    ON CONFLICT (user_id) DO UPDATE SET
        last_seen = now(),
        total_sessions = r.total_sessions + (r.last_seen < now() - v_gap)::int,
        days_active = r.days_active + (r.last_seen::date < current_date)::int,
        total_messages = r.total_messages + p_messages,
        total_photos = r.total_photos + p_photos;
    INSERT INTO user_activity AS a
        (user_id, activity_date, messages_count, photos_generated, dialogs_created)
    VALUES (p_user, current_date, p_messages, p_photos, p_dialogs)
    ON CONFLICT (user_id, activity_date) DO UPDATE SET
        messages_count = a.messages_count + p_messages,
        photos_generated = a.photos_generated + p_photos,
        dialogs_created = a.dialogs_created + p_dialogs;
    RETURN 1;
END $$;

-- Whether a JSON text (an outbox job, a dead letter, an effect's call) carries `p_id` as the
-- value of any field: `"chat_id": 42`, `"user_id":42`, `"id": 42` (a raw update's chat or
-- sender). Read through `encode(…, 'escape')` so bytes that are not UTF-8 cannot fail it.
CREATE FUNCTION mentions_id(p_payload BYTEA, p_id BIGINT) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(p_payload, 'escape') ~ ('"\s*:\s*' || p_id || '([^0-9.eE]|$)')
$$;

-- One erasure of a user's data: what it removed (counts only, no id), and the job status keys
-- still to remove from the KV bucket. The message telling the user carries its id
-- (`params.erasure`); fn-send removes the KV keys and the last traces once it is sent.
CREATE TABLE erasures (
    id         UUID PRIMARY KEY,
    dialogs    BIGINT NOT NULL,
    messages   BIGINT NOT NULL,
    photos     BIGINT NOT NULL,
    jobs       UUID[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    done_at    TIMESTAMPTZ
);

-- Erases every row about user `p_user` (whose private chat has the same id): the user and all
-- that cascades from them (dialogs, messages, photos, photo jobs, scenes, personas chosen,
-- retention, activity), the outbox jobs, effects and dead letters that name them (an admin's
-- panel that showed their figures included), and their rate and pacing cells. Returns what
-- it counted and the job ids whose status to drop. A rare request: the scans of the outbox (a
-- day of jobs) and of sent effects (a week) are the price.
CREATE FUNCTION erase_user(p_user BIGINT)
RETURNS TABLE (dialogs BIGINT, messages BIGINT, photos BIGINT, jobs UUID[])
LANGUAGE plpgsql AS $$
BEGIN
    SELECT count(*) INTO dialogs FROM dialogs d WHERE d.user_id = p_user;
    SELECT count(*) INTO messages FROM chat_messages m JOIN dialogs d ON d.id = m.dialog_id
     WHERE d.user_id = p_user AND m.role <> 'system';
    SELECT count(*) INTO photos FROM photos p WHERE p.user_id = p_user;
    jobs := ARRAY(SELECT o.job_id FROM outbox o WHERE mentions_id(o.payload, p_user));
    DELETE FROM outbox o WHERE o.job_id = ANY (jobs);
    DELETE FROM dead_letters l WHERE l.chat_id = p_user OR mentions_id(l.payload, p_user);
    -- (An earlier erasure's final message still to send stays: a double tap says it twice.)
    DELETE FROM effects e WHERE e.chat_id = p_user
       AND NOT (e.state = 'pending' AND e.params ? 'erasure');
    -- Sent messages that name them (an admin's look at their figures).
    DELETE FROM effects e WHERE e.state <> 'pending'
       AND e.params::text ~ ('(^|[^0-9])' || p_user || '([^0-9]|$)');
    DELETE FROM rate_limits r WHERE r.key = 'user:' || p_user;
    DELETE FROM send_pace s WHERE s.key = 'chat:' || p_user;
    DELETE FROM users u WHERE u.id = p_user;
    RETURN NEXT;
END $$;

-- After the last message of erasure `p_erasure` (effect `p_effect`, to chat `p_chat`) went
-- out: removes it and what was written for the chat up to it (the callback answer before it,
-- its send job, a dead letter, the pacing and rate cells) — not what a user who wrote again
-- since has made anew.
CREATE FUNCTION erase_traces(p_chat BIGINT, p_erasure UUID, p_effect UUID)
RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    v_seq BIGINT;
    v_at  TIMESTAMPTZ;
BEGIN
    SELECT seq, created_at INTO v_seq, v_at FROM effects WHERE id = p_effect;
    IF v_seq IS NOT NULL THEN
        DELETE FROM effects WHERE chat_id = p_chat AND seq <= v_seq;
        DELETE FROM outbox WHERE created_at <= v_at AND mentions_id(payload, p_chat);
        DELETE FROM dead_letters WHERE chat_id = p_chat AND created_at <= v_at;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_chat) THEN
        DELETE FROM send_pace WHERE key = 'chat:' || p_chat;
        DELETE FROM rate_limits WHERE key = 'user:' || p_chat;
    END IF;
    UPDATE erasures SET done_at = now(), jobs = '{}' WHERE id = p_erasure;
END $$;

-- A dead letter an admin sent back to its stage (the panel's Health section): when, and by
-- which admin request (so a redelivered request publishes it again, under the same id).
ALTER TABLE dead_letters ADD COLUMN retried_at TIMESTAMPTZ;
ALTER TABLE dead_letters ADD COLUMN retry_job UUID;
CREATE INDEX dead_letters_retry ON dead_letters (retry_job) WHERE retry_job IS NOT NULL;
CREATE INDEX dead_letters_chat ON dead_letters (chat_id);

-- The admin panel. Per dialog, the user's messages and the photos sent, counted as they are
-- stored (the Personas section sums dialogs instead of counting millions of messages).
ALTER TABLE dialogs ADD COLUMN user_messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dialogs ADD COLUMN photos_sent INTEGER NOT NULL DEFAULT 0;
UPDATE dialogs d SET
    user_messages = (SELECT count(*) FROM chat_messages m WHERE m.dialog_id = d.id AND m.role = 'user'),
    photos_sent = (SELECT count(*) FROM photos p WHERE p.dialog_id = d.id);
-- Retention by signup-day cohort, cell by cell (`n` = 0: the cohort's size; 1, 4, 7, 30: how
-- many came back that day), per time zone: a cell is kept once final (its day is over; past
-- days never change), so the panel computes only the cells that just became final and
-- today's. Counts only, no ids.
CREATE TABLE retention_cells (
    time_zone TEXT NOT NULL,
    day       DATE NOT NULL,
    n         INTEGER NOT NULL,
    users     BIGINT NOT NULL,
    PRIMARY KEY (time_zone, day, n)
);
-- Signups by day, activity by day (covering: the daily sums read the index alone), users by
-- messages.
CREATE INDEX users_created ON users (created_at);
CREATE INDEX user_activity_date ON user_activity (activity_date)
    INCLUDE (user_id, messages_count, photos_generated, dialogs_created);
CREATE INDEX user_retention_messages ON user_retention (total_messages DESC, user_id);
CREATE INDEX dialogs_created ON dialogs (created_at);
CREATE INDEX photos_user ON photos (user_id);
