//! `/delete_my_data` through the real functions: the user is shown what is kept and, after the
//! confirmation button, told what was erased; then no row of any table (read from the
//! catalogue, not a hand list) holds their id, their jobs' status is gone from the KV bucket,
//! another user's data is untouched, and writing again starts afresh at the 18+ gate.

use standins::system::{System, buttons_of, text_of};

use crate::helpers::{Chat, STEP, settle};
use crate::photos::photo_of;

const USER: i64 = 7_770_001;
const OTHER: i64 = 7_770_002;
const ADMIN: i64 = 9001;

/// Every (table, column, rows) of the public schema whose value is `id` or holds it as a
/// whole number (numbers, text, JSON, arrays, bytes).
async fn rows_naming(pool: &sqlx::PgPool, id: i64) -> Vec<(String, String, i64)> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text
         FROM information_schema.columns c JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
         ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(columns.len() > 50, "the catalogue lists the schema");
    let pattern = format!("(^|[^0-9]){id}([^0-9]|$)");
    let mut found = Vec::new();
    for (table, column, kind) in columns {
        let test = match kind.as_str() {
            "bigint" | "integer" | "smallint" | "numeric" => format!("\"{column}\" = $1"),
            "bytea" => format!("encode(\"{column}\", 'escape') ~ $2"),
            "text" | "character varying" | "jsonb" | "json" | "ARRAY" => {
                format!("\"{column}\"::text ~ $2")
            }
            _ => continue,
        };
        let sql = format!("SELECT count(*) FROM \"{table}\" WHERE {test}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(&pattern)
            .fetch_one(pool)
            .await
            .unwrap();
        if n > 0 {
            found.push((table, column, n));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_my_data_leaves_no_row_with_my_id() {
    let sys = System::start("privacy", &[("ADMIN_USER_IDS", "9001")])
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    let js = sys.js().await.unwrap();
    let kv = js
        .get_key_value(runtime::nats::topology::JOBS_BUCKET)
        .await
        .unwrap();

    // A user with a dialog, an answer, a photo, a dead letter, and an admin's look at them.
    let chat = Chat::new(&sys, USER);
    chat.open_dialog().await;
    let answer = chat.turn("hello there").await;
    photo_of(&chat, &answer).await;
    let other = Chat::new(&sys, OTHER);
    other.open_dialog().await;
    other.turn("I stay").await;
    sqlx::query(
        "INSERT INTO dead_letters (stage, subject, payload, error, delivered, chat_id)
         VALUES ('fn-reply', 'jobs.reply', convert_to($1, 'UTF8'), 'timed out', 6, $2)",
    )
    .bind(format!(
        r#"{{"id":"x","payload":{{"chat_id":{USER},"user_id":{USER}}}}}"#
    ))
    .bind(USER)
    .execute(&pool)
    .await
    .unwrap();
    Chat::new(&sys, ADMIN)
        .ask(&format!("/admin user {USER}"), |c| {
            text_of(c).contains(&format!("({USER})"))
        })
        .await;
    settle(&sys).await;
    let jobs: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT job_id FROM outbox WHERE subject <> 'jobs.send' AND mentions_id(payload, $1)",
    )
    .bind(USER)
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut with_status = 0;
    for job in &jobs {
        with_status += kv.get(job.simple().to_string()).await.unwrap().is_some() as usize;
    }
    assert!(with_status >= 2, "the reply and photo jobs have a status");
    assert!(rows_naming(&pool, USER).await.len() > 10);

    // Asked first, with what is kept.
    let ask = chat
        .ask("/delete_my_data", |c| {
            buttons_of(c).contains(&"me:erase".to_owned())
        })
        .await;
    let asked = text_of(&ask);
    assert!(
        asked.contains("chats: 1") && asked.contains("photos: 1"),
        "{asked}"
    );
    let since = sys.tg.calls().len();
    chat.press(&ask, "me:erase").await;
    let told = chat
        .expect_message(since, |c| text_of(c).starts_with("🗑 Done"))
        .await;
    assert!(
        text_of(&told).contains("messages: 3"),
        "greeting, question, answer: {}",
        text_of(&told)
    );

    // fn-send finishes the erasure after that message; then nothing names the user.
    standins::harness::wait_for("the erasure to finish", STEP, || {
        let pool = pool.clone();
        async move {
            let done: Option<bool> =
                sqlx::query_scalar("SELECT bool_and(done_at IS NOT NULL) FROM erasures")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            done.filter(|d| *d)
        }
    })
    .await
    .unwrap();
    settle(&sys).await;
    assert_eq!(
        rows_naming(&pool, USER).await,
        vec![],
        "rows still naming the user"
    );
    for job in &jobs {
        assert!(
            kv.get(job.simple().to_string()).await.unwrap().is_none(),
            "job {job}'s status is gone"
        );
    }
    let (dialogs, messages, photos): (i64, i64, i64) =
        sqlx::query_as("SELECT dialogs, messages, photos FROM erasures")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((dialogs, messages, photos), (1, 3, 1), "counts kept, no id");

    // The other user keeps everything; the erased one starts afresh.
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM chat_messages m JOIN dialogs d ON d.id = m.dialog_id WHERE d.user_id = $1",
    )
    .bind(OTHER)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(kept, 3);
    other.turn("still here").await;
    chat.ask("/start", |c| buttons_of(c).contains(&"age:yes".to_owned()))
        .await;
}
