//! `/export`: the current dialog as two files — a SillyTavern chat (`.jsonl`: a header line with
//! `user_name`, `character_name`, `create_date` and `chat_metadata`, then one line per message
//! with `name`, `is_user`, `is_system`, `send_date`, `mes`, and `swipes`/`swipe_id`/`swipe_info`
//! where the answer has versions) and the same conversation as readable text. SillyTavern reads
//! `send_date` as the reader's local wall-clock time; the user's time zone is not known, so the
//! dates are UTC and the header's `chat_metadata.timezone` says so. The history lines of sent photos
//! stay out: they are notes for the model, not messages. What the persona remembers about the
//! user (`/memory`) goes into the header's `chat_metadata.memory` (`fact`, `learned`) and into
//! a section at the top of the text. At most once a minute per user, and at most
//! [`MAX_EXPORT_BYTES`] (the oldest messages left out beyond it).

use chrono::{DateTime, Utc};
use companion::locale::{T, tf};
use runtime::HandlerError;
use runtime::effects::Decision;
use serde_json::json;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::store::messages::{self, Exported};
use crate::store::{memory, users};

/// The zone the exported dates are written in (named in the header's metadata).
const ZONE: &str = "UTC";

/// SillyTavern's `send_date`: "October 18, 2024 8:52pm".
fn send_date(at: DateTime<Utc>) -> String {
    at.format("%B %-d, %Y %-I:%M%P").to_string()
}

/// SillyTavern's per-version record beside `swipes` (it writes one for every version and reads
/// the shown version's date and extras from it). The versions share the answer's date: when
/// each was written is not kept.
fn swipe_info(count: usize, at: DateTime<Utc>) -> serde_json::Value {
    let one = json!({ "send_date": send_date(at), "extra": {} });
    serde_json::Value::Array(vec![one; count])
}

/// The `.jsonl` and `.txt` files of a dialog; `remembers` heads the facts' section.
fn files(d: &Exported, remembers: &str) -> (String, String) {
    let facts: Vec<serde_json::Value> = d
        .facts
        .iter()
        .map(|(fact, at)| json!({ "fact": fact, "learned": at.to_rfc3339() }))
        .collect();
    let header = json!({
        "user_name": d.user_name,
        "character_name": d.persona,
        "create_date": d.created_at.format("%Y-%m-%d@%Hh%Mm%Ss").to_string(),
        "chat_metadata": { "timezone": ZONE, "memory": facts },
    });
    let mut jsonl = vec![header.to_string()];
    let mut text = format!(
        "{} & {}, {}\n",
        d.persona,
        d.user_name,
        d.created_at.format("%Y-%m-%d")
    );
    if !d.facts.is_empty() {
        text.push_str(&format!("\n{remembers}\n"));
        for (fact, _) in &d.facts {
            text.push_str(&format!("- {fact}\n"));
        }
    }
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
            line["swipe_info"] = swipe_info(swipes.len(), *at);
        }
        jsonl.push(line.to_string());
        text.push_str(&format!(
            "\n[{} {ZONE}] {name}: {mes}\n",
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
fn fit(d: &mut Exported, remembers: &str) -> (String, String, usize) {
    let mut dropped = 0;
    loop {
        let (jsonl, text) = files(d, remembers);
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

/// Sends the user's current dialog as files, or says there is none.
pub async fn export(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let dialog = messages::exported(c, ctx.sender.user_id).await?;
    let Some(mut dialog) = dialog else {
        ctx.say(d, T::PickFirst);
        return Ok(());
    };
    if let Some(secs) = users::claim_export(c, ctx.sender.user_id, EXPORT_EVERY_SECS as f64).await?
    {
        d.text(
            chat,
            &tf(ctx.lang, T::ExportTooSoon, &[("secs", &secs)]),
            &[],
        );
        return Ok(());
    }
    dialog.facts = memory::exported(c, ctx.sender.user_id)
        .await?
        .into_iter()
        .map(|l| match l.learned_by {
            // Another persona learned it: say whom.
            Some(by) => (format!("{} ({by})", l.fact), l.updated_at),
            None => (l.fact, l.updated_at),
        })
        .collect();
    let remembers = tf(ctx.lang, T::ExportMemory, &[("name", &dialog.persona)]);
    let (jsonl, text, dropped) = fit(&mut dialog, &remembers);
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
        let d = Exported {
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
            facts: vec![("The user has a dog called Rex.".into(), at)],
        };
        let (jsonl, text) = files(&d, "What Mira remembers about you:");
        let lines: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["create_date"], "2026-10-18@20h52m17s");
        assert_eq!(lines[0]["character_name"], "Mira");
        assert_eq!(lines[0]["chat_metadata"]["timezone"], "UTC");
        assert_eq!(lines[1]["send_date"], "October 18, 2026 8:52pm");
        assert_eq!(lines[1]["swipe_info"].as_array().unwrap().len(), 2);
        assert_eq!(
            lines[1]["swipe_info"][1]["send_date"],
            lines[1]["send_date"]
        );
        assert!(lines[2].get("swipe_info").is_none());
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
        assert_eq!(
            lines[0]["chat_metadata"]["memory"][0]["fact"],
            "The user has a dog called Rex."
        );
        assert!(text.contains("What Mira remembers about you:\n- The user has a dog called Rex."));
    }
}
