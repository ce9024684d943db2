//! The Postgres statements fn-prompt runs: the moment a photo is of (the persona's look and
//! lorebook, the dialog's seed, whether it is adult or marked, its previous scene and latest
//! messages) in one round trip, saving the scene, and giving a photo slot back.

use companion::content::nudity::Level;
use companion::jobs::PromptJob;
use companion::personas::lorebook::{Lorebook, Stored};
use sqlx::{PgConnection, PgPool};

use crate::compose::Look;
use crate::scene::Scene;

/// What a photo of the dialog is made from.
#[derive(Debug, Clone)]
pub struct Moment {
    /// The persona's look.
    pub look: Look,
    /// The dialog's fixed seed.
    pub seed: i64,
    /// The most undressed her pictures may be.
    pub max_level: Level,
    /// The dialog is NSFW-enabled and the user confirmed 18+.
    pub adult: bool,
    /// The dialog's previous scene.
    pub previous: Option<Scene>,
    /// The latest messages, newest first: `(role, content)`.
    pub recent: Vec<(String, String)>,
    /// A minor was brought into the dialog (`dialogs.minor_cue_at`): no photo of it.
    pub minor_cue: bool,
    /// The persona's lorebook (`None`: she has none).
    pub lorebook: Option<Lorebook>,
}

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    age: i32,
    appearance: String,
    clothing: String,
    negative: String,
    max_level: String,
    seed: i64,
    adult: bool,
    minor_cue: bool,
    scene: Option<sqlx::types::Json<Scene>>,
    recent: sqlx::types::Json<Vec<(String, String)>>,
    lorebook: Option<sqlx::types::Json<Stored>>,
}

/// The moment of the job's dialog, or `None` when the dialog is gone.
pub async fn moment(pool: &PgPool, job: &PromptJob) -> sqlx::Result<Option<Moment>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT g.name, g.age, g.appearance, g.clothing_description AS clothing,
                g.negative_prompt AS negative, g.max_nsfw_level AS max_level, d.image_seed AS seed,
                d.nsfw_enabled AND u.age_confirmed_at IS NOT NULL AS adult, s.scene,
                d.minor_cue_at IS NOT NULL AS minor_cue, g.lorebook,
                COALESCE((SELECT json_agg(json_build_array(m.role, m.content) ORDER BY m.id DESC)
                          FROM (SELECT role, content, id FROM chat_messages
                                WHERE dialog_id = d.id AND role <> 'system' AND withheld_at IS NULL
                                ORDER BY id DESC LIMIT 6) m), '[]'::json) AS recent
         FROM dialogs d JOIN girls g ON g.id = d.girl_id JOIN users u ON u.id = d.user_id
         LEFT JOIN dialog_scenes s ON s.dialog_id = d.id
         WHERE d.id = $1 AND d.user_id = $2",
    )
    .bind(job.dialog_id)
    .bind(job.user_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Moment {
        look: Look {
            name: r.name,
            age: r.age,
            appearance: r.appearance,
            clothing: r.clothing,
            negative: r.negative,
            lore: Vec::new(),
        },
        seed: r.seed,
        max_level: Level::parse(&r.max_level).unwrap_or(Level::None),
        adult: r.adult,
        previous: r.scene.map(|j| j.0),
        recent: r.recent.0,
        minor_cue: r.minor_cue,
        lorebook: r.lorebook.and_then(|j| j.0.0),
    }))
}

/// Keeps `scene` as the dialog's latest.
pub async fn save_scene(c: &mut PgConnection, dialog_id: i64, scene: &Scene) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO dialog_scenes (dialog_id, scene) VALUES ($1, $2)
         ON CONFLICT (dialog_id) DO UPDATE SET scene = $2, updated_at = now()",
    )
    .bind(dialog_id)
    .bind(sqlx::types::Json(scene))
    .execute(c)
    .await?;
    Ok(())
}
