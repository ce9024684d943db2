//! fn-admin: the admin panel, its own function on its own durable consumer, so heavy queries
//! never run on the chat path and stopping it leaves chat untouched. fn-updates hands over an
//! admin's `/admin` or panel button (after checking the numeric id); fn-admin checks the id
//! again (`ADMIN_USER_IDS`), renders the section from Postgres (or a read replica,
//! `ADMIN_DATABASE_URL`) and JetStream, and shows it by editing the panel message in place.
//! The panel speaks English: it is for the people who run the bot.

pub mod charts;
pub mod health;
pub mod retention;
pub mod sections;

use shared::HandlerError;
use shared::admin::{AdminIds, AdminJob, Section};
use shared::app::{Deps, FromEnv};
use shared::buttons::Button;
use shared::config::Env;
use shared::effects::Decision;
use shared::envelope::Envelope;
use shared::runner::Stage;
use shared::telegram::ButtonRow;
use shared::topology::ADMIN_STAGE;
use sqlx::PgPool;

/// fn-admin settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Who may see the panel.
    pub admins: AdminIds,
    /// Where the panel's queries go (a read replica), when not the main database.
    pub database_url: Option<String>,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        let url = env.string("ADMIN_DATABASE_URL", "");
        Self {
            admins: AdminIds::read(env),
            database_url: (!url.is_empty()).then_some(url),
        }
    }
}

/// The admin stage.
pub struct Admin {
    deps: Deps,
    admins: AdminIds,
    read: PgPool,
}

impl Admin {
    /// Builds the stage.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        let read = match &s.database_url {
            Some(url) => shared::db::connect_lazy(url, 4, &deps.calendar)
                .map_err(|e| format!("ADMIN_DATABASE_URL: {e}"))?,
            None => deps.pool.clone(),
        };
        Ok(Self {
            deps,
            admins: s.admins,
            read,
        })
    }

    /// The section's text, and its chart when it has one.
    async fn render(&self, job: &AdminJob) -> Result<(String, Option<Vec<u8>>), HandlerError> {
        let pool = &self.read;
        let (text, chart) = match job.section {
            Section::Overview => (sections::overview(pool).await?, None),
            Section::Retention => retention::retention(pool)
                .await
                .map(|(t, c)| (t, Some(c)))?,
            Section::Daily => sections::daily(pool).await.map(|(t, c)| (t, Some(c)))?,
            Section::Users => match job.about_user {
                Some(id) => (sections::user(pool, id).await?, None),
                None => (sections::top_users(pool).await?, None),
            },
            Section::Personas => (sections::personas(pool).await?, None),
            Section::Health => (health::render(pool, &self.deps.js).await?, None),
        };
        let Some(c) = chart else {
            return Ok((text, None));
        };
        // Drawing is CPU work: off the async threads.
        let drawn = tokio::task::spawn_blocking(move || {
            charts::line_chart(&c.title, &c.x, &c.series, c.y_max, c.unit)
        })
        .await
        .map_err(|e| HandlerError::transient(format!("chart task: {e}")))?;
        match drawn {
            Ok(png) => Ok((text, Some(png))),
            Err(e) => {
                tracing::warn!(error = %e, "chart not drawn; the table goes alone");
                Ok((text, None))
            }
        }
    }
}

/// The panel's section buttons, two rows.
pub fn panel() -> Vec<ButtonRow> {
    let button = |s: Section| {
        let label = match s {
            Section::Overview => "📊 Overview",
            Section::Retention => "🔁 Retention",
            Section::Daily => "📅 Daily",
            Section::Users => "👤 Users",
            Section::Personas => "💃 Personas",
            Section::Health => "🩺 Health",
        };
        (label.to_owned(), Button::Admin(s).encode())
    };
    Section::ALL
        .chunks(3)
        .map(|row| row.iter().map(|s| button(*s)).collect())
        .collect()
}

impl Stage for Admin {
    type Input = Envelope<AdminJob>;
    const SPEC: shared::topology::StageSpec = ADMIN_STAGE;
    const CONCURRENCY: usize = 4;

    async fn handle(&self, env: Envelope<AdminJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        if shared::outbox::decided(&self.deps.pool, env.id).await? {
            return self.deps.outbox.republish(&env.id.to_string()).await;
        }
        let mut d = Decision::new(env.id.to_string(), env.trace_id.clone());
        if let Some(cb) = &job.callback {
            d.answer_callback(job.chat_id, cb, None);
        }
        if self.admins.contains(job.user_id) {
            let (text, chart) = self.render(job).await?;
            d.text_in(job.chat_id, job.shown, &text, &panel());
            if let Some(png) = chart {
                d.photo(job.chat_id, png, "", &[]);
            }
        } else {
            tracing::warn!(job = %env.id, "admin request from a user who is not an admin");
        }
        let committed = d.commit(self.deps.pool.begin().await?).await?;
        self.deps.outbox.publish(committed).await
    }
}
