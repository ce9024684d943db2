-- The user's language is decided in Rust only (`companion::locale::Lang::for_user`): the
-- database keeps what it is decided from — `users.lang`, the code the user chose with /lang
-- (NULL: none), and `users.language_code`, Telegram's — and no rule or list of languages.
--
-- Rows already stored keep their meaning: every `lang` written so far is 'en' or 'ru', both
-- codes Rust knows. A language added later is a Rust change alone: its code may then be stored
-- without a migration, and users whose Telegram code maps to it get it at once (the code is
-- kept as Telegram sent it).
-- A stored code a later build no longer knows counts as no choice (`Lang::for_user`).
--
-- Copies of an older build call `ui_lang`: stop them before this migration is applied (or
-- apply it once none runs), unlike the additive migrations before it.
ALTER TABLE users DROP CONSTRAINT users_lang_check;
DROP FUNCTION ui_lang(TEXT, TEXT);
