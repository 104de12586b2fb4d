//! postdesk: a helpdesk on the command line and in the mail system.
//!
//! `cli` parses and prints, `desk` holds the use cases, `model` the domain data
//! (no I/O), `store` the sled database, `config` the YAML directory and settings.
//! Dependencies point down only: cli -> desk -> store/model.

pub mod cli;
pub mod config;
pub mod desk;
pub mod mail;
pub mod model;
pub mod rules;
pub mod secret;
pub mod sharing;
pub mod store;
pub mod templates;
pub mod yaml_guard;
