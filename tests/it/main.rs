//! Integration tests: one test binary (faster to link) driving the real `postdesk`.

mod cli_misc;
mod common;
mod config_errors;
mod dovecot;
mod ingest;
mod ingest_hostile;
mod ingest_imap;
mod ingest_load;
mod man_pages;
mod rules;
mod sample;
mod store_lock;
mod ticket_create;
mod ticket_edit;
mod ticket_list;
mod ticket_show;
mod torture;
