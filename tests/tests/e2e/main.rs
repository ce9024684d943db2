//! End-to-end tests: every function as separate processes against a real nats-server, a
//! fresh PostgreSQL database and the stand-ins. The module list says what is covered.

mod admin;
mod admin_ops;
mod answers;
mod bench_smoke;
mod bridge;
mod chaos;
mod cluster;
mod containers;
mod conversation;
mod copies;
mod crash;
mod data;
mod delivery;
mod deploy_files;
mod edits;
mod export;
mod faults;
mod helpers;
mod http_runner;
mod ingress;
mod make_run;
mod ops;
mod outages;
mod photo_backends;
mod photo_safety;
mod photos;
mod privacy;
mod resilience;
mod rolling;
mod sends;
mod startup;
mod traces;
mod twice;
mod walk;
