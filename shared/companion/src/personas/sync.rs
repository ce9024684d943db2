//! The loaded personas into the `girls` table, and the refused cards into
//! `persona_problems` (replaced on every load, read by the admin panel's health section), in
//! one transaction.

use sqlx::PgPool;

use super::{Persona, PersonaError, Problem};

/// Upserts personas by slug; personas whose file is gone (or now refused) are deactivated,
/// not deleted (dialogs still point at them). The problems replace the previous load's.
pub async fn sync(
    pool: &PgPool,
    personas: &[Persona],
    problems: &[Problem],
) -> Result<(), PersonaError> {
    let mut tx = pool.begin().await?;
    // Copies starting together sync one after the other: the problems of one load each.
    sqlx::query("LOCK TABLE persona_problems IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    for p in personas {
        sqlx::query(
            "INSERT INTO girls (slug, name, age, system_prompt, greeting, clothing_description,
                                appearance, negative_prompt, card, sort_order, post_history,
                                alternate_greetings, pitch, avatar, max_nsfw_level, greetings,
                                lorebook, is_active, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     $17, TRUE, now())
             ON CONFLICT (slug) DO UPDATE SET name = $2, age = $3, system_prompt = $4, greeting = $5,
                 clothing_description = $6, appearance = $7, negative_prompt = $8, card = $9,
                 sort_order = $10, post_history = $11, alternate_greetings = $12, pitch = $13,
                 avatar = $14, max_nsfw_level = $15, greetings = $16, lorebook = $17,
                 is_active = TRUE,
                 updated_at = now(),
                 avatar_effect_id = CASE WHEN girls.avatar IS NOT DISTINCT FROM $14
                                         THEN girls.avatar_effect_id END",
        )
        .bind(&p.slug)
        .bind(&p.name)
        .bind(p.age)
        .bind(&p.system_prompt)
        .bind(&p.greeting)
        .bind(&p.clothing)
        .bind(&p.appearance)
        .bind(&p.negative_prompt)
        .bind(&p.card)
        .bind(p.sort_order)
        .bind(&p.post_history)
        .bind(&p.alternate_greetings)
        .bind(sqlx::types::Json(&p.pitch))
        .bind(&p.avatar)
        .bind(p.max_level.as_str())
        .bind(sqlx::types::Json(&p.greetings))
        .bind(p.lorebook.as_ref().map(sqlx::types::Json))
        .execute(&mut *tx)
        .await?;
    }
    let slugs: Vec<String> = personas.iter().map(|p| p.slug.clone()).collect();
    sqlx::query("UPDATE girls SET is_active = FALSE WHERE NOT (slug = ANY($1))")
        .bind(&slugs)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM persona_problems")
        .execute(&mut *tx)
        .await?;
    let column = |f: fn(&Problem) -> &String| problems.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO persona_problems (position, file, field, reason)
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[])",
    )
    .bind((0..problems.len() as i32).collect::<Vec<_>>())
    .bind(column(|p| &p.file))
    .bind(column(|p| &p.field))
    .bind(column(|p| &p.reason))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
