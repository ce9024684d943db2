-- Community cards: a bad card is refused alone, and what was wrong with it is kept for the
-- admin panel's health section — the last load's problems, replaced on every load (in the
-- transaction that syncs `girls`). Personas also carry their greetings in other languages
-- (`data.extensions.companion.lang.<code>` of the card): code → [first, alternates…].

CREATE TABLE persona_problems (
    position   INTEGER PRIMARY KEY,               -- order of the files in the folder
    file       TEXT NOT NULL,                     -- as named in the personas folder
    field      TEXT NOT NULL,                     -- the card field at fault, or (json), (png)…
    reason     TEXT NOT NULL,
    found_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE girls ADD COLUMN greetings JSONB NOT NULL DEFAULT '{}';
