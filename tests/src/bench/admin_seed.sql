-- The admin bench's dataset, made in SQL (deterministic: setseed): :users users signed up
-- over 90 days, about ten active days each (≈ 10 × :users activity rows), one or two dialogs
-- each with twenty messages (≈ 30 × :users messages), a photo in two dialogs of three, six
-- personas, a hundred dead letters; the dialogs' counters to match. `:users` is replaced by the
-- bench (it is also psql's variable syntax: `psql -v users=1000 -f admin_seed.sql`).
SELECT setseed(0.42);
INSERT INTO girls (slug, name, age, system_prompt, greeting, card)
SELECT 'bench' || i, 'Persona ' || i, 20 + i, 'You are a bench persona.', 'Hi.', '{}'
FROM generate_series(1, 6) i;
INSERT INTO users (id, first_name, created_at, age_confirmed_at)
SELECT 1000000 + i, 'user' || i, t, t
FROM (SELECT i, now() - random() * interval '90 days' AS t FROM generate_series(1, :users) i) s;
INSERT INTO user_activity (user_id, activity_date, messages_count, photos_generated, dialogs_created)
SELECT DISTINCT ON (u.id, d) u.id, d, 1 + (random() * 30)::int, (random() < 0.3)::int, (random() < 0.1)::int
FROM users u, LATERAL (
    SELECT u.created_at::date + (power(random(), 2) * (current_date - u.created_at::date))::int AS d
    FROM generate_series(1, 13)) x
ON CONFLICT DO NOTHING;
INSERT INTO user_retention (user_id, first_seen, last_seen, total_sessions, total_messages, total_photos, days_active)
SELECT u.id, u.created_at, greatest(u.created_at, max(a.activity_date)::timestamptz),
       count(*) + (random() * 5)::int, sum(a.messages_count), sum(a.photos_generated), count(*)
FROM users u JOIN user_activity a ON a.user_id = u.id GROUP BY u.id;
INSERT INTO dialogs (user_id, girl_id, image_seed, created_at, updated_at)
SELECT u.id, g.id, u.id, u.created_at, now()
FROM users u JOIN girls g ON g.slug = 'bench' || (1 + u.id % 6)
UNION ALL
SELECT u.id, g.id, u.id + 1, u.created_at + interval '1 day', now()
FROM users u JOIN girls g ON g.slug = 'bench' || (1 + (u.id / 7) % 6) WHERE u.id % 2 = 0;
INSERT INTO chat_messages (dialog_id, role, content, created_at)
SELECT d.id, CASE WHEN k % 2 = 0 THEN 'user' ELSE 'assistant' END,
       'a message of about the usual length, some twenty words that the bench stores for each turn',
       d.created_at + k * interval '1 minute'
FROM dialogs d, generate_series(1, 20) k;
INSERT INTO photos (job_id, dialog_id, user_id, prompt, seed, created_at)
SELECT gen_random_uuid(), d.id, d.user_id, 'photo of an adult woman', d.image_seed, d.created_at
FROM dialogs d WHERE d.id % 3 <> 0;
INSERT INTO dead_letters (stage, subject, payload, error, delivered, chat_id)
SELECT 'fn-reply', 'jobs.reply', convert_to('{}', 'UTF8'), 'LLM timed out after 60 s', 6, 1000000 + i
FROM generate_series(1, 100) i;
UPDATE dialogs d SET user_messages = 10, photos_sent = (d.id % 3 <> 0)::int;
