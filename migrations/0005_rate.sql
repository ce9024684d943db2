-- How fast one user may write, shared by every copy of fn-updates: a GCRA per key (the
-- theoretical arrival time of the next allowed message), as `pace_take` does for sends but
-- without Telegram's pauses. `users.rate_noted_until`: the user was told to slow down and hears
-- nothing more until then.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION rate_take(p_key TEXT, p_interval_ms DOUBLE PRECISION, p_burst_ms DOUBLE PRECISION)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    v_now  TIMESTAMPTZ := clock_timestamp();
    v_wait BIGINT;
BEGIN
    -- Allowed (the next arrival time is within the burst credit): one upsert takes the slot.
    INSERT INTO rate_limits AS r (key, tat)
    VALUES (p_key, v_now + p_interval_ms * interval '1 millisecond')
    ON CONFLICT (key) DO UPDATE
        SET tat = GREATEST(r.tat, v_now) + p_interval_ms * interval '1 millisecond'
        WHERE r.tat <= v_now + p_burst_ms * interval '1 millisecond';
    IF FOUND THEN
        RETURN 0;
    END IF;
    SELECT GREATEST(1, ceil(extract(epoch FROM tat - v_now) * 1000 - p_burst_ms))::BIGINT
      INTO v_wait FROM rate_limits WHERE key = p_key;
    RETURN v_wait;
END $$;

ALTER TABLE users ADD COLUMN rate_noted_until TIMESTAMPTZ;
