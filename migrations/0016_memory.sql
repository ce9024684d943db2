-- Long-term memory: durable facts about the user (name, preferences, events, people in their
-- life) that the LLM extracts from the dialog off the critical path, a batch of user messages
-- at a time, and that go into later prompts — of any dialog with the same persona, or with
-- every persona when the user shares them (`users.memory_shared`, toggled on /memory).

-- Facts one persona learned about one user. `key` names what the fact is about ("name",
-- "dog", "job"): a new fact with the same key replaces the old one (the user moved, the dog
-- has a new name), so facts are deduplicated and updated rather than piled up. `dialog_id` and
-- `source_message_id` say where it was last learned (deleting that dialog forgets it);
-- `mentions` counts how often it came up again, for ranking.
CREATE TABLE memory_facts (
    id                BIGSERIAL PRIMARY KEY,
    user_id           BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    girl_id           INTEGER NOT NULL REFERENCES girls (id) ON DELETE CASCADE,
    key               TEXT NOT NULL CHECK (key <> '' AND length(key) <= 40),
    fact              TEXT NOT NULL CHECK (fact <> '' AND length(fact) <= 300),
    dialog_id         BIGINT REFERENCES dialogs (id) ON DELETE CASCADE,
    source_message_id BIGINT REFERENCES chat_messages (id) ON DELETE SET NULL,
    mentions          INTEGER NOT NULL DEFAULT 1,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, girl_id, key)
);
CREATE INDEX memory_facts_user ON memory_facts (user_id, updated_at DESC);
CREATE INDEX memory_facts_dialog ON memory_facts (dialog_id);

-- The facts of every persona go into each persona's prompt (the user's choice on /memory).
ALTER TABLE users ADD COLUMN memory_shared BOOLEAN NOT NULL DEFAULT FALSE;

-- The last message of a dialog whose facts were extracted (like `summary_upto`): the next
-- extraction reads the messages after it, once enough user messages wait.
ALTER TABLE dialogs ADD COLUMN memory_upto BIGINT NOT NULL DEFAULT 0;
