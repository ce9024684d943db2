//! Telegram's command menu as last set, per language (`bot_commands`): fn-updates sets a
//! language's menu only when it is new or changed.

use sqlx::PgConnection;

/// Records `params` (a `setMyCommands` call's) as language `lang`'s menu; `true` when it is
/// new or differs from the one recorded, so the call is due.
pub async fn changed(c: &mut PgConnection, lang: &str, params: &str) -> sqlx::Result<bool> {
    let changed: Option<String> = sqlx::query_scalar(
        "INSERT INTO bot_commands (lang, digest) VALUES ($1, md5($2))
             ON CONFLICT (lang) DO UPDATE SET digest = EXCLUDED.digest, set_at = now()
               WHERE bot_commands.digest <> EXCLUDED.digest
             RETURNING lang",
    )
    .bind(lang)
    .bind(params)
    .fetch_optional(c)
    .await?;
    Ok(changed.is_some())
}
