//! End-to-end test harness: starts the real `kinlink` binary on port 0
//! with a fresh database (SQLite, or PostgreSQL when
//! `KINLINK_TEST_DATABASE=postgres`), signs demo users in over HTTP and
//! talks to the WebSocket endpoint.

pub mod agreements;
pub mod app;
pub mod client;
pub mod data_dir;
pub mod database;
pub mod erasure;
pub mod family;
pub mod mail;
pub mod media_peer;
pub mod raw;
pub mod secrets;
pub mod socket;
pub mod test_media;
pub mod test_pdf;
pub mod uploads;

pub use app::{AppOptions, TestApp};
pub use client::Client;
pub use database::{Database, database_under_test};
pub use socket::Socket;
