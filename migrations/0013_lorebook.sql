-- A persona's lorebook (the card's `character_book`) as the loader keeps it: only the entries
-- that may be used (enabled, with keys or constant, past the minor-safety scan), every setting
-- resolved (`companion::personas::lorebook::Lorebook`). NULL: the card has none. Written when
-- the personas are synced; fn-reply and fn-prompt read it with the persona in the statements
-- they already run.
ALTER TABLE girls ADD COLUMN lorebook JSONB;
