//! NATS: the connection and its settings, the streams and consumers each stage uses, and
//! the job board (job status in a KV bucket).

pub mod broker;
pub mod jobs;
pub mod topology;
