//! The persona picker: the active personas in their order, with their avatars as Telegram knows
//! them (or their PNG until it does), and which send uploads an avatar.

use sqlx::PgConnection;

/// A persona as the picker shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct MenuPersona {
    /// Database id.
    pub id: i32,
    /// Display name.
    pub name: String,
    /// Age.
    pub age: i32,
    /// One-line pitch by language code.
    pub pitch: sqlx::types::Json<std::collections::BTreeMap<String, String>>,
    /// Her avatar as Telegram knows it, once uploaded.
    pub avatar_file_id: Option<String>,
    /// Her avatar's PNG, when Telegram does not have it yet.
    pub avatar: Option<Vec<u8>>,
}

/// Active personas for the menu, in their order.
pub async fn personas(c: &mut PgConnection) -> sqlx::Result<Vec<MenuPersona>> {
    sqlx::query_as(
        "SELECT g.id, g.name, g.age, g.pitch, e.telegram_file_id AS avatar_file_id,
                CASE WHEN e.telegram_file_id IS NULL THEN g.avatar END AS avatar
         FROM girls g LEFT JOIN effects e ON e.id = g.avatar_effect_id
         WHERE g.is_active ORDER BY g.sort_order, g.id",
    )
    .fetch_all(c)
    .await
}

/// Remembers that effect `effect` uploads persona `girl_id`'s avatar (its file id is kept).
pub async fn avatar_upload(
    c: &mut PgConnection,
    girl_id: i32,
    effect: uuid::Uuid,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE girls SET avatar_effect_id = $2 WHERE id = $1")
        .bind(girl_id)
        .bind(effect)
        .execute(c)
        .await?;
    Ok(())
}
