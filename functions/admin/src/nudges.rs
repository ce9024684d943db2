//! The nudge figures shown under the overview: nudges sent (7 days, all time), the share
//! answered within 24 hours, the opt-out rate (personas allowed to write first, then turned
//! off), and D7 retention of users with nudges on against users without (signups of the last
//! 60 days old enough to have a D7).

use sqlx::PgPool;

use crate::sections::percent;

#[derive(sqlx::FromRow)]
struct Figures {
    sent_week: i64,
    sent_all: i64,
    answered: i64,
    opted_in: i64,
    opted_out: i64,
    on_users: i64,
    on_kept: i64,
    off_users: i64,
    off_kept: i64,
}

/// The nudges block of the overview.
pub async fn figures(pool: &PgPool) -> sqlx::Result<String> {
    let f: Figures = sqlx::query_as(
        "WITH n AS (
             SELECT n.created_at, EXISTS (
                 SELECT 1 FROM chat_messages a
                 WHERE a.dialog_id = n.dialog_id AND a.role = 'user' AND a.id > n.message_id
                   AND a.created_at <= n.created_at + interval '24 hours') AS answered
             FROM nudges n),
         c AS (
             SELECT EXISTS (SELECT 1 FROM user_selected_girls s
                            WHERE s.user_id = u.id AND s.nudges) AS on_,
                    EXISTS (SELECT 1 FROM user_activity a WHERE a.user_id = u.id
                              AND a.activity_date = u.created_at::date + 7) AS kept
             FROM users u
             WHERE u.created_at >= current_date - 60 AND u.created_at < current_date - 6)
         SELECT (SELECT count(*) FROM n WHERE created_at >= current_date - 6) AS sent_week,
                (SELECT count(*) FROM n) AS sent_all,
                (SELECT count(*) FROM n WHERE answered) AS answered,
                (SELECT count(*) FROM user_selected_girls WHERE nudges_on_at IS NOT NULL)
                    AS opted_in,
                (SELECT count(*) FROM user_selected_girls
                 WHERE nudges_on_at IS NOT NULL AND NOT nudges) AS opted_out,
                (SELECT count(*) FROM c WHERE on_) AS on_users,
                (SELECT count(*) FROM c WHERE on_ AND kept) AS on_kept,
                (SELECT count(*) FROM c WHERE NOT on_) AS off_users,
                (SELECT count(*) FROM c WHERE NOT on_ AND kept) AS off_kept",
    )
    .fetch_one(pool)
    .await?;
    Ok(format!(
        "💌 Nudges\nSent: {} / {} (7 days / all time) · answered within 24 h: {}\n\
         Opt-out rate: {} ({} of {} opt-ins)\n\
         D7 retention: nudges on {} ({} users) · off {} ({} users)",
        f.sent_week,
        f.sent_all,
        percent(f.answered, f.sent_all),
        percent(f.opted_out, f.opted_in),
        f.opted_out,
        f.opted_in,
        percent(f.on_kept, f.on_users),
        f.on_users,
        percent(f.off_kept, f.off_users),
        f.off_users,
    ))
}
