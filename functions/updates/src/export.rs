//! `/export`: the current dialog as two files — a SillyTavern chat (`.jsonl`: a header line with
//! `user_name`, `character_name`, `create_date`, then one line per message with `name`,
//! `is_user`, `is_system`, `send_date`, `mes`, and `swipes`/`swipe_id` where the answer has
//! versions) and the same conversation as readable text. The history lines of sent photos
//! stay out: they are notes for the model, not messages. At most once a minute per user, and at
//! most [`MAX_EXPORT_BYTES`] (the oldest messages left out beyond it).

use chrono::{DateTime, Utc};
use companion::locale::{T, t, tf};
use runtime::HandlerError;
use runtime::effects::Decision;
use serde_json::json;
use sqlx::PgConnection;

use crate::actions::Ctx;

/// One stored message: role, text, when, versions, the version shown.
type Message = (
    String,
    String,
    DateTime<Utc>,
    Option<Vec<String>>,
    Option<i16>,
);

#[derive(sqlx::FromRow)]
struct Dialog {
    persona: String,
    user_name: String,
    created_at: DateTime<Utc>,
    messages: sqlx::types::Json<Vec<Message>>,
}

/// SillyTavern's `send_date`: "October 18, 2024 8:52pm".
fn send_date(at: DateTime<Utc>) -> String {
    at.format("%B %-d, %Y %-I:%M%P").to_string()
}

/// The `.jsonl` and `.txt` files of a dialog.
fn files(d: &Dialog) -> (String, String) {
    let header = json!({
        "user_name": d.user_name,
        "character_name": d.persona,
        "create_date": d.created_at.format("%Y-%m-%d@%Hh%Mm%Ss").to_string(),
        "chat_metadata": {},
    });
    let mut jsonl = vec![header.to_string()];
    let mut text = format!(
        "{} & {}, {}\n",
        d.persona,
        d.user_name,
        d.created_at.format("%Y-%m-%d")
    );
    for (role, mes, at, variants, variant) in &d.messages.0 {
        let is_user = role == "user";
        let name = if is_user { &d.user_name } else { &d.persona };
        let mut line = json!({
            "name": name, "is_user": is_user, "is_system": false,
            "send_date": send_date(*at), "mes": mes, "extra": {},
        });
        if let (Some(swipes), false) = (variants, is_user) {
            line["swipes"] = json!(swipes);
            line["swipe_id"] = json!(variant.unwrap_or(0));
        }
        jsonl.push(line.to_string());
        text.push_str(&format!(
            "\n[{}] {name}: {mes}\n",
            at.format("%Y-%m-%d %H:%M")
        ));
    }
    (jsonl.join("\n") + "\n", text)
}

/// How often one user may export (`/export` builds and uploads two files of a whole dialog).
pub const EXPORT_EVERY_SECS: i64 = 60;
/// The largest `.jsonl` sent: older messages are left out beyond it (the text file is smaller).
pub const MAX_EXPORT_BYTES: usize = 8 << 20;

/// Drops the oldest messages until the files fit [`MAX_EXPORT_BYTES`]; how many were dropped.
fn fit(d: &mut Dialog) -> (String, String, usize) {
    let mut dropped = 0;
    loop {
        let (jsonl, text) = files(d);
        if jsonl.len() <= MAX_EXPORT_BYTES || d.messages.0.is_empty() {
            return (jsonl, text, dropped);
        }
        // Roughly the share that is too much, at least one message.
        let over = (jsonl.len() - MAX_EXPORT_BYTES) * d.messages.0.len() / jsonl.len() + 1;
        let n = over.min(d.messages.0.len());
        d.messages.0.drain(..n);
        dropped += n;
    }
}

/// Claims the user's export for now: `None` when they may export, else the seconds to wait.
async fn claim(c: &mut PgConnection, user_id: i64) -> sqlx::Result<Option<i64>> {
    let wait: Option<f64> = sqlx::query_scalar(
        "WITH c AS (UPDATE users SET exported_at = now() WHERE id = $1
                      AND (exported_at IS NULL OR exported_at <= now() - make_interval(secs => $2))
                    RETURNING 1)
         SELECT CASE WHEN EXISTS (SELECT 1 FROM c) THEN NULL
                ELSE extract(epoch FROM exported_at + make_interval(secs => $2) - now())::float8 END
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .bind(EXPORT_EVERY_SECS as f64)
    .fetch_one(c)
    .await?;
    Ok(wait.map(|w| w.ceil().max(1.0) as i64))
}

/// Sends the user's current dialog as files, or says there is none.
pub async fn export(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let dialog: Option<Dialog> = sqlx::query_as(
        "SELECT g.name AS persona, u.first_name AS user_name, dl.created_at,
                COALESCE((SELECT json_agg(json_build_array(m.role, m.content, m.created_at, m.variants, m.variant)
                                          ORDER BY m.id)
                          FROM chat_messages m WHERE m.dialog_id = dl.id AND m.role <> 'system'), '[]'::json)
                AS messages
         FROM users u
         JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
         JOIN dialogs dl ON dl.id = s.active_dialog_id
         JOIN girls g ON g.id = dl.girl_id
         WHERE u.id = $1",
    )
    .bind(ctx.sender.user_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(mut dialog) = dialog else {
        d.text(chat, t(ctx.lang, T::PickFirst), &[]);
        return Ok(());
    };
    if let Some(secs) = claim(c, ctx.sender.user_id).await? {
        d.text(
            chat,
            &tf(ctx.lang, T::ExportTooSoon, &[("secs", &secs)]),
            &[],
        );
        return Ok(());
    }
    let (jsonl, text, dropped) = fit(&mut dialog);
    let stem = format!(
        "{}-{}",
        dialog.persona.to_lowercase(),
        dialog.created_at.format("%Y-%m-%d")
    );
    let name: &dyn std::fmt::Display = &dialog.persona;
    let mut caption = tf(ctx.lang, T::ExportCaption, &[("name", name)]);
    if dropped > 0 {
        let count: &dyn std::fmt::Display = &dialog.messages.0.len();
        caption = format!(
            "{caption} {}",
            tf(ctx.lang, T::ExportTruncated, &[("count", count)])
        );
    }
    d.document(chat, jsonl.into_bytes(), &format!("{stem}.jsonl"), &caption);
    d.document(chat, text.into_bytes(), &format!("{stem}.txt"), "");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_becomes_sillytavern_jsonl_and_text() {
        let at = DateTime::parse_from_rfc3339("2026-10-18T20:52:17Z")
            .unwrap()
            .with_timezone(&Utc);
        let d = Dialog {
            persona: "Mira".into(),
            user_name: "Ann".into(),
            created_at: at,
            messages: sqlx::types::Json(vec![
                (
                    "assistant".into(),
                    "Hello!".into(),
                    at,
                    Some(vec!["Hi there!".into(), "Hello!".into()]),
                    Some(1),
                ),
                ("user".into(), "hi \"you\"\nthere".into(), at, None, None),
            ]),
        };
        let (jsonl, text) = files(&d);
        let lines: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["create_date"], "2026-10-18@20h52m17s");
        assert_eq!(lines[0]["character_name"], "Mira");
        assert_eq!(lines[1]["send_date"], "October 18, 2026 8:52pm");
        assert_eq!(
            lines[1]["swipes"][lines[1]["swipe_id"].as_u64().unwrap() as usize],
            "Hello!"
        );
        assert_eq!(
            (lines[2]["name"].as_str(), lines[2]["is_user"].as_bool()),
            (Some("Ann"), Some(true))
        );
        assert_eq!(lines[2]["mes"], "hi \"you\"\nthere");
        assert!(text.contains("Mira: Hello!") && text.contains("Ann: hi"));
    }
}
