//! Telegram's command menu, set at start: the commands with their descriptions in each
//! language, sent only for a language whose menu is new or changed.

use companion::locale::{COMMANDS, Lang, t};
use runtime::HandlerError;
use runtime::app::Deps;
use runtime::effects::Decision;

use crate::store::bot_commands;

/// Telegram's command menu, in every language (the default list in English, Russian for
/// Russian-speaking users): a `setMyCommands` call per language whose menu is new or changed
/// since it was last set (`bot_commands`), sent by fn-send like any effect.
pub async fn set_commands(deps: &Deps) -> Result<(), HandlerError> {
    let mut tx = deps.pool.begin().await?;
    let mut d = Decision::new("startup", "startup");
    for lang in Lang::ALL {
        let commands: Vec<serde_json::Value> = COMMANDS
            .iter()
            .map(|(command, key)| serde_json::json!({"command": command, "description": t(lang, *key)}))
            .collect();
        let mut params = serde_json::json!({ "commands": commands });
        if lang != Lang::En {
            params["language_code"] = serde_json::json!(lang.code());
        }
        if bot_commands::changed(&mut tx, lang.code(), &params.to_string()).await? {
            d.bot_call("setMyCommands", params);
        }
    }
    let committed = d.commit(tx).await?;
    deps.outbox.publish(committed).await
}
