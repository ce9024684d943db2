//! PostgreSQL: the pool and its migrations, and the dead-letter table every runner writes to.

pub mod db;
pub mod deadletter;
