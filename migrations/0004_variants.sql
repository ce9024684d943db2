-- A message can have variants the user browses in place (a persona's alternate greetings now,
-- regenerated replies later); `content` always holds the chosen one, which the history keeps.
ALTER TABLE chat_messages ADD COLUMN variants TEXT[];
ALTER TABLE chat_messages ADD COLUMN variant SMALLINT NOT NULL DEFAULT 0;
