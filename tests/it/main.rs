//! Integration tests: one test binary (faster to link) driving the real `postdesk`.

mod cli_misc;
mod common;
mod config_errors;
mod csv_formulas;
mod disk_full;
mod doctor;
mod dovecot;
mod fixture_schema2;
mod growth;
mod hostile_config;
mod ingest;
mod ingest_hostile;
mod ingest_imap;
mod ingest_load;
mod man_pages;
mod rules;
mod sample;
mod senders;
mod shared_desk;
mod store_lock;
mod terminal_output;
mod ticket_create;
mod ticket_edit;
mod ticket_list;
mod ticket_show;
mod torture;
