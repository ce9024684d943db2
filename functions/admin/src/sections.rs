//! The panel's sections from Postgres: overview, daily activity, top users and one user,
//! personas (retention and health have their own modules). Days are calendar days in
//! `ADMIN_TZ` (the connection's time zone: `current_date`, `::date`).

use companion::ui::admin::Section;
use sqlx::PgPool;

use crate::charts::Chart;
use crate::view::View;

/// `part` of `whole` as a rounded percentage.
pub fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "–".to_owned()
    } else {
        format!("{}%", (part * 100 + whole / 2) / whole)
    }
}

#[derive(sqlx::FromRow)]
struct Overview {
    users: i64,
    new_today: i64,
    dau: i64,
    wau: i64,
    mau: i64,
    messages_today: i64,
    messages_week: i64,
    messages_all: i64,
    photos_today: i64,
    photos_week: i64,
    photos_all: i64,
    dialogs_today: i64,
    dialogs_week: i64,
    dialogs_all: i64,
}

/// Users, DAU/WAU/MAU, messages, photos and dialogs (today, 7 days, all time), stickiness.
/// Active users come from each user's last activity (`user_retention.last_seen`, which every
/// tracked event moves): one pass over a row per user instead of a distinct count over a
/// month of activity rows.
pub async fn overview(pool: &PgPool) -> sqlx::Result<View> {
    let o: Overview = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users) AS users,
                (SELECT count(*) FROM users WHERE created_at >= current_date) AS new_today,
                r.*, a.*,
                (SELECT count(*) FROM dialogs WHERE created_at >= current_date) AS dialogs_today,
                (SELECT count(*) FROM dialogs WHERE created_at >= current_date - 6) AS dialogs_week,
                (SELECT count(*) FROM dialogs) AS dialogs_all
         FROM (SELECT count(*) FILTER (WHERE last_seen >= current_date) AS dau,
                      count(*) FILTER (WHERE last_seen >= current_date - 6) AS wau,
                      count(*) FILTER (WHERE last_seen >= current_date - 29) AS mau,
                      coalesce(sum(total_messages), 0)::bigint AS messages_all,
                      coalesce(sum(total_photos), 0)::bigint AS photos_all
               FROM user_retention) r,
              (SELECT coalesce(sum(messages_count) FILTER (WHERE activity_date = current_date), 0)::bigint
                          AS messages_today,
                      coalesce(sum(messages_count), 0)::bigint AS messages_week,
                      coalesce(sum(photos_generated) FILTER (WHERE activity_date = current_date), 0)::bigint
                          AS photos_today,
                      coalesce(sum(photos_generated), 0)::bigint AS photos_week
               FROM user_activity WHERE activity_date > current_date - 7) a",
    )
    .fetch_one(pool)
    .await?;
    Ok(View::text(
        Section::Overview,
        format!(
            "📊 Overview\n\nUsers: {} (new today {})\nDAU {} · WAU {} · MAU {} · stickiness (DAU/MAU) {}\n\n\
         today / 7 days / all time\nMessages: {} / {} / {}\nPhotos: {} / {} / {}\nDialogs: {} / {} / {}",
            o.users,
            o.new_today,
            o.dau,
            o.wau,
            o.mau,
            percent(o.dau, o.mau),
            o.messages_today,
            o.messages_week,
            o.messages_all,
            o.photos_today,
            o.photos_week,
            o.photos_all,
            o.dialogs_today,
            o.dialogs_week,
            o.dialogs_all,
        ),
    ))
}

#[derive(sqlx::FromRow)]
struct Day {
    day: chrono::NaiveDate,
    active: i64,
    messages: i64,
    photos: i64,
    new_users: i64,
}

/// The last 30 days: active users, messages, photos, new users.
pub async fn daily(pool: &PgPool) -> sqlx::Result<View> {
    let days: Vec<Day> = sqlx::query_as(
        "WITH a AS (SELECT activity_date AS day, count(*) AS active,
                           sum(messages_count) AS messages, sum(photos_generated) AS photos
                    FROM user_activity WHERE activity_date > current_date - 30 GROUP BY 1),
              n AS (SELECT created_at::date AS day, count(*) AS new_users FROM users
                    WHERE created_at >= current_date - 29 GROUP BY 1)
         SELECT d::date AS day, coalesce(a.active, 0) AS active,
                coalesce(a.messages, 0)::bigint AS messages,
                coalesce(a.photos, 0)::bigint AS photos, coalesce(n.new_users, 0) AS new_users
         FROM generate_series(current_date - 29, current_date, interval '1 day') d
         LEFT JOIN a ON a.day = d::date LEFT JOIN n ON n.day = d::date
         ORDER BY d DESC",
    )
    .fetch_all(pool)
    .await?;
    let head = "📅 Last 30 days: active · messages · photos · new users\n\n".to_owned();
    let lines = days
        .iter()
        .map(|d| {
            format!(
                "{}  {} · {} · {} · {}",
                d.day, d.active, d.messages, d.photos, d.new_users
            )
        })
        .collect();
    let oldest_first: Vec<&Day> = days.iter().rev().collect();
    let line = |f: fn(&Day) -> i64| oldest_first.iter().map(|d| Some(f(d) as f64)).collect();
    let chart = Chart {
        title: "Last 30 days".into(),
        x: oldest_first
            .iter()
            .map(|d| d.day.format("%m-%d").to_string())
            .collect(),
        series: vec![
            ("active users".into(), line(|d| d.active)),
            ("new users".into(), line(|d| d.new_users)),
            ("photos".into(), line(|d| d.photos)),
        ],
        y_max: None,
        unit: "",
    };
    Ok(View {
        chart: Some(chart),
        ..View::table(Section::Daily, head, lines, 31)
    })
}

/// The hundred users with the most messages, twenty a page.
pub async fn top_users(pool: &PgPool) -> sqlx::Result<View> {
    let rows: Vec<(i64, String, i32, i32, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT r.user_id, u.first_name, r.total_messages, r.total_photos, r.last_seen
         FROM user_retention r JOIN users u ON u.id = r.user_id
         ORDER BY r.total_messages DESC, r.user_id LIMIT 100",
    )
    .fetch_all(pool)
    .await?;
    let head = "👤 Top users by messages (/admin user <id> for one)\n\n".to_owned();
    let lines = rows
        .into_iter()
        .enumerate()
        .map(|(i, (id, name, messages, photos, seen))| {
            let name: String = name.chars().take(32).collect();
            format!(
                "{}. {id} {name}: {messages} messages, {photos} photos, last seen {}",
                i + 1,
                seen.format("%Y-%m-%d")
            )
        })
        .collect();
    Ok(View::table(Section::Users, head, lines, 20))
}

#[derive(sqlx::FromRow)]
struct UserFigures {
    name: String,
    messages: i32,
    photos: i32,
    sessions: i32,
    days: i32,
    first: chrono::DateTime<chrono::Utc>,
    last: chrono::DateTime<chrono::Utc>,
}

/// One user's figures and dialogs per persona.
pub async fn user(pool: &PgPool, id: i64) -> sqlx::Result<View> {
    let figures: Option<UserFigures> = sqlx::query_as(
        "SELECT u.first_name AS name, r.total_messages AS messages, r.total_photos AS photos,
                r.total_sessions AS sessions, r.days_active AS days, r.first_seen AS first,
                r.last_seen AS last
         FROM users u JOIN user_retention r ON r.user_id = u.id WHERE u.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(UserFigures {
        name,
        messages,
        photos,
        sessions,
        days,
        first,
        last,
    }) = figures
    else {
        return Ok(View::text(Section::Users, format!("👤 No user {id}.")));
    };
    let head = format!(
        "👤 {name} ({id})\nMessages {messages} · photos {photos} · sessions {sessions} · days active {days}\nFirst seen {} · last seen {}\n\nDialogs per persona:\n",
        first.format("%Y-%m-%d"),
        last.format("%Y-%m-%d %H:%M"),
    );
    let per: Vec<(String, i64)> = sqlx::query_as(
        "SELECT g.name, count(*) FROM dialogs d JOIN girls g ON g.id = d.girl_id
         WHERE d.user_id = $1 GROUP BY g.name ORDER BY count(*) DESC, g.name",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let lines = per.into_iter().map(|(p, n)| format!("{p}: {n}")).collect();
    Ok(View::table(Section::Users, head, lines, 30))
}

/// Dialogs, user messages and photos per persona (from each dialog's counters).
pub async fn personas(pool: &PgPool) -> sqlx::Result<View> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT g.name, count(d.id), coalesce(sum(d.user_messages), 0)::bigint,
                coalesce(sum(d.photos_sent), 0)::bigint
         FROM girls g LEFT JOIN dialogs d ON d.girl_id = g.id
         WHERE g.is_active GROUP BY g.id ORDER BY g.sort_order, g.name",
    )
    .fetch_all(pool)
    .await?;
    let head = "💃 Personas: dialogs · messages · photos\n\n".to_owned();
    let lines = rows
        .into_iter()
        .map(|(name, dialogs, messages, photos)| {
            format!("{name}: {dialogs} · {messages} · {photos}")
        })
        .collect();
    Ok(View::table(Section::Personas, head, lines, 25))
}
