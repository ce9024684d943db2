-- A photo job's render as the image server knows it, so a redelivered job waits for the
-- render already queued instead of queueing a second one. fn-image writes `render_posted_at`
-- (and clears `render_id`) just before it queues the render, then `render_id`, the id the
-- server answered with, before it starts waiting: ComfyUI builds from before mid-2025 ignore
-- the id a client proposes and choose their own, so only the answer names the render. A row
-- with `render_posted_at` but no `render_id` is a delivery that stopped between queueing and
-- recording; the next one looks for the render in the server's queue before queueing anew.
-- Backends that answer in the same call (Automatic1111, Venice) leave both empty.
ALTER TABLE photo_jobs
    ADD COLUMN render_id        TEXT,
    ADD COLUMN render_posted_at TIMESTAMPTZ;
