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
    v_tat  TIMESTAMPTZ;
    v_wait DOUBLE PRECISION;
BEGIN
    INSERT INTO rate_limits (key, tat) VALUES (p_key, v_now) ON CONFLICT (key) DO NOTHING;
    SELECT GREATEST(tat, v_now) INTO v_tat FROM rate_limits WHERE key = p_key FOR UPDATE;
    v_wait := extract(epoch FROM v_tat - v_now) * 1000 - p_burst_ms;
    IF v_wait > 0 THEN
        RETURN ceil(v_wait)::BIGINT;
    END IF;
    UPDATE rate_limits SET tat = v_tat + p_interval_ms * interval '1 millisecond' WHERE key = p_key;
    RETURN 0;
END $$;

ALTER TABLE users ADD COLUMN rate_noted_until TIMESTAMPTZ;
