-- Faults real deployments see: one owner per send, sends that outlast a Telegram outage, a
-- sweeper that reaches every row, dead letters that do not pile up.

-- A claim's token: every statement that finishes or releases a claim checks it, so a copy
-- whose lease ran out can never clear (or complete) the claim of the copy that took over.
ALTER TABLE effects ADD COLUMN lease_token UUID;
-- When the current run of failed tries began: a send is given up only SEND_GIVE_UP_SECS
-- after it, however many tries that took.
ALTER TABLE effects ADD COLUMN failing_since TIMESTAMPTZ;
-- When a send job last looked at a pending effect (claimed it, or found it must wait): the
-- sweeper re-queues only effects no job has looked at for a while (their job was lost), not
-- ones whose job waits out a back-off or a pause.
ALTER TABLE effects ADD COLUMN touched_at TIMESTAMPTZ;

-- The sweeper takes rows never swept first, then the longest unswept.
CREATE INDEX outbox_sweep ON outbox (sweep_until NULLS FIRST, created_at)
    WHERE published_at IS NULL;

-- Dead letters are pruned after DEAD_LETTER_DAYS.
CREATE INDEX dead_letters_age ON dead_letters (created_at);

-- The command menu Telegram was last given, per language: fn-updates sets it only when it
-- changed, not at every start (each start used to send setMyCommands for "chat 0").
CREATE TABLE bot_commands (
    lang   TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    set_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Deleting a chat keeps its photos counted against the user's limit: the photo slot outlives
-- its dialog (it counted against a limit the user reached; deleting must not refill it).
ALTER TABLE photo_jobs ALTER COLUMN dialog_id DROP NOT NULL;
ALTER TABLE photo_jobs DROP CONSTRAINT photo_jobs_dialog_id_fkey;
ALTER TABLE photo_jobs ADD CONSTRAINT photo_jobs_dialog_id_fkey
    FOREIGN KEY (dialog_id) REFERENCES dialogs (id) ON DELETE SET NULL;

-- Ids matched exactly: a job, a dead letter or a raw update names user `p_id` when one of its
-- objects has `chat_id`, `user_id` or `about_user` (an admin's request about them) equal to
-- it, or a `chat` or `from` whose `id` is (a raw update's chat or sender) — never a dialog, message or update id that happens to be equal.
-- A payload that is not JSON (an undecodable dead letter) is matched by those field names
-- in its text.
CREATE OR REPLACE FUNCTION mentions_id(p_payload BYTEA, p_id BIGINT) RETURNS BOOLEAN
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_json JSONB;
BEGIN
    BEGIN
        v_json := convert_from(p_payload, 'UTF8')::jsonb;
    EXCEPTION WHEN others THEN
        RETURN encode(p_payload, 'escape')
            ~ ('"(chat_id|user_id|about_user)"\s*:\s*' || p_id || '([^0-9.eE]|$)');
    END;
    RETURN jsonb_path_exists(v_json,
        'lax $.** ? (@.chat_id == $id || @.user_id == $id || @.about_user == $id
                    || @.chat.id == $id || @.from.id == $id)',
        jsonb_build_object('id', p_id));
END $$;

-- The user's erasure: sent messages that are about them are found by the `about_user` field
-- the admin panel puts on a user's panel, not by a number somewhere in their text.
CREATE OR REPLACE FUNCTION erase_user(p_user BIGINT)
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
    -- Sent messages about them (an admin's look at their figures).
    DELETE FROM effects e WHERE e.state <> 'pending' AND e.params -> 'about_user' = to_jsonb(p_user);
    DELETE FROM rate_limits r WHERE r.key = 'user:' || p_user;
    DELETE FROM send_pace s WHERE s.key = 'chat:' || p_user;
    DELETE FROM users u WHERE u.id = p_user;
    RETURN NEXT;
END $$;

-- A dead letter's payload as JSON, or NULL when it is not JSON.
CREATE FUNCTION try_jsonb(p_payload BYTEA) RETURNS JSONB
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN convert_from(p_payload, 'UTF8')::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
