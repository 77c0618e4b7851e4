//! Integration tests: the real server on port 0 against the mock Qdrant.

mod cache;
mod certificates;
mod cluster;
mod cluster_view;
mod collectors;
mod config;
mod consistency;
mod cost;
mod docs;
mod e2e;
mod failures;
mod guards;
mod helpers;
mod kube;
mod metrics;
mod names;
mod paths;
mod probe;
mod process;
mod promql;
mod relay;
mod routes;
mod secrets;
mod spec;
mod tls;
mod web;
