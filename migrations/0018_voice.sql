-- Voice notes in and out: the per-user "answer in voice" setting, the seconds of voice each
-- user sent per day (the daily limit), each voice note heard by its update (reserved before
-- it is fetched; a redelivered voice note is not transcribed twice), the claim of a version
-- being spoken, and the voice notes an answer version was
-- spoken in (their effects carry the Telegram `file_id`, so a second 🔊 sends them again
-- without a speech call). Everything goes with the user (or the answer) it belongs to.

ALTER TABLE users ADD COLUMN voice_answers BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE voice_usage (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day     DATE NOT NULL,
    seconds INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);

-- A voice note being heard, by its update: the row is written (and its seconds charged, in the
-- same statement) before anything is fetched, so a flood over the budget or the daily limit
-- costs no transcription, and a redelivery is recognised (not charged again). `text` is the
-- transcription once made; a refused one (minor-related) is not kept, only `refused`.
CREATE TABLE voice_transcripts (
    update_id  BIGINT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seconds    INTEGER NOT NULL,
    text       TEXT,
    refused    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Kept a day (a redelivery comes within it); the words live on in the dialog, not here.
CREATE INDEX voice_transcripts_age ON voice_transcripts (created_at);

-- A version being spoken: the first 🔊 claims it, presses meanwhile collapse into that one run.
CREATE TABLE voice_speaking (
    answer_id  BIGINT NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    variant    SMALLINT NOT NULL,
    job_id     UUID NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (answer_id, variant)
);

CREATE TABLE voice_notes (
    answer_id BIGINT NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    variant   SMALLINT NOT NULL,
    part      SMALLINT NOT NULL,
    parts     SMALLINT NOT NULL,
    effect_id UUID NOT NULL,
    PRIMARY KEY (answer_id, variant, part)
);
