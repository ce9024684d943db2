-- Effects: every Bot API call a handler decides on is a row here, written in the same
-- transaction as the state that implies it, sent after the commit by fn-send (the one place
-- that calls Telegram) and marked done, so a redelivery sends only what is missing.

CREATE TABLE effects (
    id                  UUID PRIMARY KEY,
    seq                 BIGSERIAL NOT NULL,         -- send order within a chat
    chat_id             BIGINT NOT NULL,
    method              TEXT NOT NULL,              -- Bot API method (sendMessage, sendPhoto, …)
    params              JSONB NOT NULL,             -- its parameters
    blob                BYTEA,                      -- the photo upload, dropped once sent
    visible             BOOLEAN NOT NULL,           -- a message the user sees: paced and ordered
    bulk                BOOLEAN NOT NULL DEFAULT FALSE, -- answers nobody (broadcasts, nudges)
    notice              BOOLEAN NOT NULL DEFAULT FALSE, -- itself a failure notice (no notice about it)
    state               TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts            INTEGER NOT NULL DEFAULT 0, -- failed tries (waiting for a turn is not one)
    lease_until         TIMESTAMPTZ,                -- a sender is working on it until then
    swept_at            TIMESTAMPTZ,                -- last time the sweeper re-queued it
    telegram_message_id BIGINT,
    error               TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    done_at             TIMESTAMPTZ
);
CREATE INDEX effects_pending ON effects (chat_id, seq) WHERE state = 'pending';
CREATE INDEX effects_done ON effects (done_at) WHERE state <> 'pending';

-- Flood control shared by every copy of fn-send: a GCRA cell per key ('chat:<id>', 'bulk',
-- 'global'). `tat` is the theoretical arrival time of the next send; `paused_until` honours a
-- 429's retry_after.
CREATE TABLE send_pace (
    key          TEXT PRIMARY KEY,
    tat          TIMESTAMPTZ NOT NULL DEFAULT now(),
    paused_until TIMESTAMPTZ
);

-- Takes a send slot for `p_key` (interval and burst tolerance in ms). Returns 0 when the send
-- may go now, else how many ms to wait. A pause on the key or on 'global' is honoured first.
CREATE FUNCTION pace_take(p_key TEXT, p_interval_ms DOUBLE PRECISION, p_burst_ms DOUBLE PRECISION)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    v_now  TIMESTAMPTZ := clock_timestamp();
    v_wait DOUBLE PRECISION;
    v_tat  TIMESTAMPTZ;
BEGIN
    SELECT max(paused_until) INTO v_tat FROM send_pace
     WHERE key IN (p_key, 'global') AND paused_until > v_now;
    IF v_tat IS NOT NULL THEN
        RETURN GREATEST(1, ceil(extract(epoch FROM v_tat - v_now) * 1000))::BIGINT;
    END IF;
    INSERT INTO send_pace (key, tat) VALUES (p_key, v_now) ON CONFLICT (key) DO NOTHING;
    SELECT GREATEST(tat, v_now) INTO v_tat FROM send_pace WHERE key = p_key FOR UPDATE;
    v_wait := extract(epoch FROM v_tat - v_now) * 1000 - p_burst_ms;
    IF v_wait > 0 THEN
        RETURN ceil(v_wait)::BIGINT;
    END IF;
    UPDATE send_pace SET tat = v_tat + p_interval_ms * interval '1 millisecond' WHERE key = p_key;
    RETURN 0;
END $$;

-- A user who blocked the bot (or whose chat is gone) is unreachable until they write again.
ALTER TABLE users ADD COLUMN unreachable_at TIMESTAMPTZ;

-- The outbox now takes jobs from every stage: `source` is what produced them (an update or a
-- job), so a redelivery of that source re-publishes what is still unpublished; the sweeper
-- leases rows it re-publishes so copies do not double up.
ALTER TABLE outbox ALTER COLUMN update_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN source TEXT;
UPDATE outbox SET source = 'upd-' || update_id;
ALTER TABLE outbox ALTER COLUMN source SET NOT NULL;
ALTER TABLE outbox ADD COLUMN sweep_until TIMESTAMPTZ;
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
CREATE INDEX outbox_source ON outbox (source) WHERE published_at IS NULL;

-- The photo's message is an effect now.
ALTER TABLE photos ADD COLUMN effect_id UUID;

-- Telegram restarts update ids after a week without updates: claims older than that are pruned.
CREATE INDEX processed_updates_age ON processed_updates (processed_at);
