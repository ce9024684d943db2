-- Conversations: interface language, dialogs the user renames, answers with versions that
-- are written again (🔄) and edited in place, and answers streamed with a stop button.

-- The interface language the user chose with /lang (NULL: follow Telegram's language_code).
ALTER TABLE users ADD COLUMN lang TEXT CHECK (lang IN ('en', 'ru'));
-- The dialog whose new title the user's next text is (set by ✏️, cleared by that text).
ALTER TABLE users ADD COLUMN renaming_dialog_id BIGINT REFERENCES dialogs (id) ON DELETE SET NULL;

-- The language the bot speaks to a user: their choice, else Russian for Telegram's `ru…`,
-- else English (the same rule as `Lang::for_telegram`).
CREATE FUNCTION ui_lang(p_lang TEXT, p_code TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(p_lang, CASE WHEN lower(left(p_code, 2)) = 'ru' THEN 'ru' ELSE 'en' END)
$$;

-- An answer's message: the effect that sent the Telegram message carrying its buttons (so
-- /retry can edit it in place), the reply jobs that wrote each later version (a redelivered
-- job never adds a version twice), and a stop the user asked for while it streamed.
ALTER TABLE chat_messages ADD COLUMN effect_id UUID;
ALTER TABLE chat_messages ADD COLUMN variant_jobs UUID[];
ALTER TABLE chat_messages ADD COLUMN stop_requested_at TIMESTAMPTZ;

-- "My chats": a user's dialogs, latest first. An empty title means "not renamed" (the list
-- shows the persona and the first words of the dialog instead).
CREATE INDEX dialogs_user_recent ON dialogs (user_id, updated_at DESC);
ALTER TABLE dialogs ALTER COLUMN title SET DEFAULT '';

-- A user's edited message is found by Telegram's id of it (ids are per chat: the dialog's
-- owner is checked too).
CREATE INDEX chat_messages_telegram ON chat_messages (telegram_message_id)
    WHERE telegram_message_id IS NOT NULL;

-- The rolling summary of a dialog's older messages (those with id <= summary_upto), written
-- by the LLM off the critical path and shown to it in place of those messages.
ALTER TABLE dialogs ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE dialogs ADD COLUMN summary_upto BIGINT NOT NULL DEFAULT 0;

-- Photos Telegram accepted keep its file id, so a picture is uploaded once and sent again by
-- id (persona avatars in the picker: `avatar_effect_id` names the upload that cached it).
ALTER TABLE effects ADD COLUMN telegram_file_id TEXT;
ALTER TABLE girls ADD COLUMN avatar_effect_id UUID;
