-- Personas carry the rest of their Character Card: what goes after the history, the
-- alternate greetings, a one-line pitch per language for the picker, and the avatar.
ALTER TABLE girls ADD COLUMN post_history TEXT NOT NULL DEFAULT '';
ALTER TABLE girls ADD COLUMN alternate_greetings TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE girls ADD COLUMN pitch JSONB NOT NULL DEFAULT '{}';
ALTER TABLE girls ADD COLUMN avatar BYTEA;
