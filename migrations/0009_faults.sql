-- Faults real deployments see: one owner per send, sends that outlast a Telegram outage, a
-- sweeper that reaches every row, dead letters that do not pile up.

-- A claim's token: every statement that finishes or releases a claim checks it, so a copy
-- whose lease ran out can never clear (or complete) the claim of the copy that took over.
ALTER TABLE effects ADD COLUMN lease_token UUID;
-- When the current run of failed tries began: a send is given up only SEND_GIVE_UP_SECS
-- after it, however many tries that took.
ALTER TABLE effects ADD COLUMN failing_since TIMESTAMPTZ;

-- The sweeper takes rows never swept first, then the longest unswept.
CREATE INDEX outbox_sweep ON outbox (sweep_until NULLS FIRST, created_at)
    WHERE published_at IS NULL;

-- Dead letters are pruned after DEAD_LETTER_DAYS.
CREATE INDEX dead_letters_age ON dead_letters (created_at);

-- The command menu Telegram was last given, per language: fn-updates sets it only when it
-- changed, not at every start (each start used to send setMyCommands for "chat 0").
CREATE TABLE bot_commands (
    lang   TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    set_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
