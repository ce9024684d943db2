-- Nudges: a persona writes first after the user has been silent a while, only where the user
-- allowed it (per user and persona, off by default), never in their quiet hours.
--
-- The user's clock: a fixed UTC offset in minutes (NULL: inferred from their language, see
-- `companion::nudges::Clock`) and quiet hours [quiet_from, quiet_to) in whole local hours
-- (equal: none).
ALTER TABLE users
    ADD COLUMN tz_offset_min INTEGER CHECK (tz_offset_min BETWEEN -720 AND 840),
    ADD COLUMN quiet_from    SMALLINT NOT NULL DEFAULT 23 CHECK (quiet_from BETWEEN 0 AND 23),
    ADD COLUMN quiet_to      SMALLINT NOT NULL DEFAULT 9 CHECK (quiet_to BETWEEN 0 AND 23);

-- Per user and persona: nudges on, when they were first turned on and last turned off (the
-- admin panel's opt-out rate), and when the question was asked (once).
ALTER TABLE user_selected_girls
    ADD COLUMN nudges           BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN nudges_on_at     TIMESTAMPTZ,
    ADD COLUMN nudges_off_at    TIMESTAMPTZ,
    ADD COLUMN nudge_offered_at TIMESTAMPTZ;

-- Every nudge written, keyed by the fired job's id (one per (user, last message)): a redelivery
-- finds it. `message_id` is the assistant message that carries it; it is answered when a user
-- message follows it in the dialog.
CREATE TABLE nudges (
    id         UUID PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    girl_id    INTEGER NOT NULL REFERENCES girls (id),
    dialog_id  BIGINT NOT NULL REFERENCES dialogs (id) ON DELETE CASCADE,
    message_id BIGINT REFERENCES chat_messages (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX nudges_user_girl ON nudges (user_id, girl_id, created_at DESC);
CREATE INDEX nudges_created ON nudges (created_at);
