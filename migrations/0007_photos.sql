-- Photos that follow the story: a nudity ceiling per persona, the scene state of each dialog,
-- and one row per photo job that both charges the limits and says what is rendering.

ALTER TABLE girls ADD COLUMN max_nsfw_level TEXT NOT NULL DEFAULT 'partial'
    CHECK (max_nsfw_level IN ('none', 'undressing', 'partial', 'full'));

-- Place, time of day, pose, expression, clothing and level of a dialog's latest picture, so
-- the next one follows on from it.
CREATE TABLE dialog_scenes (
    dialog_id  BIGINT PRIMARY KEY REFERENCES dialogs (id) ON DELETE CASCADE,
    scene      JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A photo job holds a slot while pending or done; a failed one gives it back. Reserving takes
-- the user's row lock, so concurrent presses never pass a limit.
CREATE TABLE photo_jobs (
    job_id     UUID PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dialog_id  BIGINT NOT NULL REFERENCES dialogs (id) ON DELETE CASCADE,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX photo_jobs_user ON photo_jobs (user_id, dialog_id) WHERE state <> 'failed';
