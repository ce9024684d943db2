-- Holding against a determined user.
--
-- `dialogs.minor_cue_at`: a message in this dialog was refused for bringing a minor into it (or a
-- photo wish, or a request split over messages). Sexual content in the dialog is refused from then on,
-- and its texts take the full path; a new dialog starts clean.
ALTER TABLE dialogs ADD COLUMN minor_cue_at TIMESTAMPTZ;

-- `chat_messages.withheld_at`: a stored message the model must never see again (a request split
-- over messages that only the model stage saw whole): left out of prompts, summaries and the
-- texts that shape a photo, kept for the user's export and erasure.
ALTER TABLE chat_messages ADD COLUMN withheld_at TIMESTAMPTZ;

-- One budget for every kind of update: a weighted GCRA. An event costs `p_cost_ms` of the
-- user's time (a text one interval, a photo several, a button a fraction); the burst credit is
-- the same for all. With a cost of one interval this is exactly `rate_take`, which now calls it.
CREATE FUNCTION rate_take(p_key TEXT, p_cost_ms DOUBLE PRECISION, p_interval_ms DOUBLE PRECISION,
                          p_burst_ms DOUBLE PRECISION)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    v_now  TIMESTAMPTZ := clock_timestamp();
    v_wait BIGINT;
BEGIN
    INSERT INTO rate_limits AS r (key, tat)
    VALUES (p_key, v_now + p_cost_ms * interval '1 millisecond')
    ON CONFLICT (key) DO UPDATE
        SET tat = GREATEST(r.tat, v_now) + p_cost_ms * interval '1 millisecond'
        WHERE GREATEST(r.tat, v_now) + (p_cost_ms - p_interval_ms) * interval '1 millisecond'
              <= v_now + p_burst_ms * interval '1 millisecond';
    IF FOUND THEN
        RETURN 0;
    END IF;
    SELECT GREATEST(1, ceil(extract(epoch FROM GREATEST(tat, v_now) - v_now) * 1000
                            + p_cost_ms - p_interval_ms - p_burst_ms))::BIGINT
      INTO v_wait FROM rate_limits WHERE key = p_key;
    RETURN v_wait;
END $$;

CREATE OR REPLACE FUNCTION rate_take(p_key TEXT, p_interval_ms DOUBLE PRECISION,
                                     p_burst_ms DOUBLE PRECISION)
RETURNS BIGINT LANGUAGE sql AS $$
    SELECT rate_take(p_key, p_interval_ms, p_interval_ms, p_burst_ms)
$$;

-- `/export` at most once per `EXPORT_EVERY_SECS`.
ALTER TABLE users ADD COLUMN exported_at TIMESTAMPTZ;
