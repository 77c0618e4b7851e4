//! Integration tests: the real server on port 0 against the mock Qdrant.

mod cache;
mod config;
mod docs;
mod failures;
mod helpers;
mod metrics;
mod models;
mod names;
mod process;
mod routes;
mod tls;
