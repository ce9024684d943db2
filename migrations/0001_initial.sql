-- The first schema: the seed's six tables plus users (18+ confirmation), processed updates,
-- dead letters and sent photos. Every effect of a redelivered message is keyed here.

CREATE TABLE users (
    id               BIGINT PRIMARY KEY,            -- Telegram user id
    first_name       TEXT NOT NULL DEFAULT '',
    username         TEXT,
    language_code    TEXT,
    age_confirmed_at TIMESTAMPTZ,                   -- NULL until the user confirms 18+
    current_girl_id  INTEGER,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE girls (
    id                   SERIAL PRIMARY KEY,
    slug                 TEXT NOT NULL UNIQUE,      -- file stem in personas/
    name                 TEXT NOT NULL,
    age                  INTEGER NOT NULL CHECK (age >= 18),
    system_prompt        TEXT NOT NULL,
    greeting             TEXT NOT NULL,
    clothing_description TEXT NOT NULL DEFAULT '',
    appearance           TEXT NOT NULL DEFAULT '',
    negative_prompt      TEXT NOT NULL DEFAULT '',
    card                 JSONB NOT NULL,            -- the whole Character Card, unknown keys kept
    is_active            BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order           INTEGER NOT NULL DEFAULT 0,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE users ADD CONSTRAINT users_current_girl_fk
    FOREIGN KEY (current_girl_id) REFERENCES girls (id) ON DELETE SET NULL;

CREATE TABLE dialogs (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    girl_id      INTEGER NOT NULL REFERENCES girls (id),
    title        TEXT NOT NULL DEFAULT '',
    nsfw_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    image_seed   BIGINT NOT NULL,                   -- fixed per dialog: a consistent face
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX dialogs_user_girl ON dialogs (user_id, girl_id, updated_at DESC);

CREATE TABLE chat_messages (
    id                  BIGSERIAL PRIMARY KEY,
    dialog_id           BIGINT NOT NULL REFERENCES dialogs (id) ON DELETE CASCADE,
    role                TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content             TEXT NOT NULL,
    update_id           BIGINT UNIQUE,              -- the Telegram update that carried it
    job_id              UUID UNIQUE,                -- the reply job that produced it
    reply_to            BIGINT REFERENCES chat_messages (id) ON DELETE SET NULL, -- the user message it answers
    reply_failed_at     TIMESTAMPTZ,                -- a user message whose answer was given up on
    telegram_message_id BIGINT,                     -- set once Telegram accepted it
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX chat_messages_dialog ON chat_messages (dialog_id, id);
CREATE INDEX chat_messages_reply_to ON chat_messages (reply_to);

CREATE TABLE user_selected_girls (
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    girl_id          INTEGER NOT NULL REFERENCES girls (id),
    active_dialog_id BIGINT REFERENCES dialogs (id) ON DELETE SET NULL,
    photos_used      INTEGER NOT NULL DEFAULT 0,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, girl_id)
);

CREATE TABLE user_retention (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    first_seen     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen      TIMESTAMPTZ NOT NULL DEFAULT now(),
    total_sessions INTEGER NOT NULL DEFAULT 1,
    total_messages INTEGER NOT NULL DEFAULT 0,
    total_photos   INTEGER NOT NULL DEFAULT 0,
    days_active    INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE user_activity (
    id               BIGSERIAL PRIMARY KEY,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    activity_date    DATE NOT NULL,
    messages_count   INTEGER NOT NULL DEFAULT 0,
    photos_generated INTEGER NOT NULL DEFAULT 0,
    dialogs_created  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, activity_date)
);

CREATE TABLE processed_updates (
    update_id    BIGINT PRIMARY KEY,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE photos (
    job_id              UUID PRIMARY KEY,
    dialog_id           BIGINT NOT NULL REFERENCES dialogs (id) ON DELETE CASCADE,
    user_id             BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prompt              TEXT NOT NULL,
    seed                BIGINT NOT NULL,
    telegram_message_id BIGINT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Jobs decided while handling an update, written in the same transaction and published after
-- it commits; a redelivered update publishes whatever is still unpublished.
CREATE TABLE outbox (
    job_id       UUID PRIMARY KEY,
    update_id    BIGINT NOT NULL,
    subject      TEXT NOT NULL,
    payload      BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox (update_id) WHERE published_at IS NULL;

CREATE TABLE dead_letters (
    id         BIGSERIAL PRIMARY KEY,
    stage      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    payload    BYTEA NOT NULL,
    error      TEXT NOT NULL,
    delivered  BIGINT NOT NULL,
    chat_id    BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
