-- Voice notes in and out: the per-user "answer in voice" setting, the seconds of voice each
-- user sent per day (the daily limit), transcriptions by Telegram's `file_unique_id` (a
-- redelivered voice note is not transcribed twice), and the voice notes an answer version was
-- spoken in (their effects carry the Telegram `file_id`, so a second 🔊 sends them again
-- without a speech call). Everything goes with the user (or the answer) it belongs to.

ALTER TABLE users ADD COLUMN voice_answers BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE voice_usage (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day     DATE NOT NULL,
    seconds INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);

CREATE TABLE voice_transcripts (
    file_unique_id TEXT PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text           TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Kept a day (a redelivery comes within it); the words live on in the dialog, not here.
CREATE INDEX voice_transcripts_age ON voice_transcripts (created_at);

CREATE TABLE voice_notes (
    answer_id BIGINT NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    variant   SMALLINT NOT NULL,
    part      SMALLINT NOT NULL,
    parts     SMALLINT NOT NULL,
    effect_id UUID NOT NULL,
    PRIMARY KEY (answer_id, variant, part)
);
