//! fn-admin: the admin panel, its own function on its own durable consumer, so heavy queries
//! never run on the chat path and stopping it leaves chat untouched. fn-updates hands over an
//! admin's `/admin` or panel button (after checking the numeric id); fn-admin checks the id
//! again (`ADMIN_USER_IDS`), renders the section from Postgres (or a read replica,
//! `ADMIN_DATABASE_URL`) and JetStream, and shows it by editing the panel message in place.
//! The panel speaks English: it is for the people who run the bot.

pub mod charts;
pub mod health;
pub mod nudges;
pub mod retention;
pub mod retry;
pub mod sections;
pub mod view;

use companion::jobs::sorry;
use companion::locale::Lang;
use companion::ui::admin::{AdminIds, AdminJob, Request, Section};
use runtime::HandlerError;
use runtime::app::{Deps, FromEnv};
use runtime::config::Env;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::{ADMIN_STAGE, SEND_STAGE};
use runtime::runner::Notice;
use runtime::runner::Stage;
use runtime::telegram::ButtonRow;
use sqlx::PgPool;

use crate::charts::Chart;

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
            Some(url) => runtime::pg::db::connect_lazy(url, 4, &deps.calendar)
                .map_err(|e| format!("ADMIN_DATABASE_URL: {e}"))?,
            None => deps.pool.clone(),
        };
        let (r, main) = (read.clone(), deps.pool.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match retention::warm(&r, &main).await {
                Ok(()) => tracing::info!(
                    ms = started.elapsed().as_millis() as u64,
                    "retention cells ready"
                ),
                Err(e) => tracing::warn!(error = %e, "retention cells not computed ahead"),
            }
        });
        Ok(Self {
            deps,
            admins: s.admins,
            read,
        })
    }
}

/// A section as the panel shows it: the page's text, the keyboard under it, and the chart
/// (first page only) as a PNG.
pub struct Rendered {
    /// The page's text.
    pub text: String,
    /// Page, line and section buttons.
    pub buttons: Vec<ButtonRow>,
    /// The section's chart, when it has one and could be drawn.
    pub chart: Option<Vec<u8>>,
}

/// Renders what `request` asks for from `read` (the panel's pool, perhaps a replica), `main`
/// (the database, for the retention cells it keeps) and JetStream: everything the panel's
/// answer is made of, also what `make bench-admin` times.
pub async fn render(
    read: &PgPool,
    main: &PgPool,
    js: &async_nats::jetstream::Context,
    request: &Request,
) -> Result<Rendered, HandlerError> {
    let mut view = match request.section {
        Section::Overview => {
            let mut view = sections::overview(read).await?;
            let nudges = nudges::figures(read).await?;
            view.head = format!("{}\n\n{nudges}", view.head);
            view
        }
        Section::Retention => retention::retention(read, main).await?,
        Section::Daily => sections::daily(read).await?,
        Section::Users => match request.about_user {
            Some(id) => sections::user(read, id).await?,
            None => sections::top_users(read).await?,
        },
        Section::Personas => sections::personas(read).await?,
        Section::Health => health::render(read, js).await?,
    };
    let chart = match view.chart.take() {
        Some(c) if request.page == 0 => draw(c).await?,
        _ => None,
    };
    let (text, buttons) = view.page(request.page);
    Ok(Rendered {
        text,
        buttons,
        chart,
    })
}

/// A chart as a PNG, drawn off the async threads (CPU work); `None` when it could not be.
async fn draw(c: Chart) -> Result<Option<Vec<u8>>, HandlerError> {
    let drawn = tokio::task::spawn_blocking(move || {
        charts::line_chart(&c.title, &c.x, &c.series, c.y_max, c.unit)
    })
    .await
    .map_err(|e| HandlerError::transient(format!("chart task: {e}")))?;
    Ok(drawn
        .inspect_err(|e| tracing::warn!(error = %e, "chart not drawn; the table goes alone"))
        .ok())
}

impl Stage for Admin {
    type Input = Envelope<AdminJob>;
    const SPEC: runtime::nats::topology::StageSpec = ADMIN_STAGE;
    const CONCURRENCY: usize = 4;

    fn failure_notice(env: Option<&Envelope<AdminJob>>) -> Option<Notice> {
        sorry(env.map_or(Lang::En, |e| e.payload.lang), Vec::new())
    }

    async fn handle(&self, env: Envelope<AdminJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        let pool = &self.deps.pool;
        if runtime::effects::outbox::decided(pool, env.id).await? {
            self.deps.outbox.republish(&env.id.to_string()).await?;
            return retry::publish(pool, &self.deps.js, env.id).await;
        }
        let mut d = Decision::new(env.id.to_string(), env.trace_id.clone());
        if !self.admins.contains(job.user_id) {
            tracing::warn!(job = %env.id, "admin request from a user who is not an admin");
            if let Some(cb) = &job.callback {
                d.answer_callback(job.chat_id, cb, None);
            }
            let committed = d.commit(pool.begin().await?).await?;
            return self.deps.outbox.publish(committed).await;
        }
        let retried = match job.request.retry {
            Some(id) => Some((id, retry::mark(pool, id, env.id).await?)),
            None => None,
        };
        if let Some(cb) = &job.callback {
            let said = retried.as_ref().map(|(id, marked)| match marked {
                Some(m) if m.lost > 0 && m.requeued == 0 => format!(
                    "Dead letter #{id} cannot be sent again: its photo or file is no longer kept"
                ),
                Some(m) if m.stage == SEND_STAGE.name => format!(
                    "Dead letter #{id} sent back to fn-send: {} message(s) queued again{}",
                    m.requeued,
                    if m.lost > 0 {
                        format!(", {} not kept", m.lost)
                    } else {
                        String::new()
                    }
                ),
                Some(m) => format!("Dead letter #{id} sent back to {}", m.stage),
                None => format!("No dead letter #{id}"),
            });
            d.answer_callback(job.chat_id, cb, said.as_deref());
        }
        let shown = render(&self.read, pool, &self.deps.js, &job.request).await?;
        d.text_in(job.chat_id, job.shown, &shown.text, &shown.buttons);
        if let Some(png) = shown.chart {
            d.photo(job.chat_id, png, "", &[]);
        }
        if let Some(user) = job.request.about_user {
            d.about_user(user);
        }
        let committed = d.commit(pool.begin().await?).await?;
        self.deps.outbox.publish(committed).await?;
        retry::publish(pool, &self.deps.js, env.id).await
    }
}
