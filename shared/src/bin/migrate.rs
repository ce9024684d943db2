//! `migrate`: applies the versioned migrations in `migrations/` to `DATABASE_URL`. The one
//! explicit schema step ops run before starting (or upgrading) the functions.

use std::process::ExitCode;

use shared::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    shared::telemetry::init("migrate");
    if let Err(e) = shared::secrets::load().await {
        return shared::app::fail("migrate", &e.to_string(), 2);
    }
    let mut env = Env::from_process();
    let url = env.secret("DATABASE_URL");
    if let Err(e) = env.finish() {
        return shared::app::fail("migrate", &e.to_string(), 2);
    }
    let pool = match shared::db::connect(url.expose(), 1, &Default::default()).await {
        Ok(p) => p,
        Err(e) => return shared::app::fail("migrate", &e.to_string(), 1),
    };
    match shared::db::migrate(&pool).await {
        Ok(()) => {
            tracing::info!(
                migrations = shared::db::MIGRATOR.iter().count(),
                "schema is up to date"
            );
            ExitCode::SUCCESS
        }
        Err(e) => shared::app::fail("migrate", &e.to_string(), 1),
    }
}
