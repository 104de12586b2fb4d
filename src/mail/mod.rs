//! Mail: parsing into [`parse::Incoming`], the sources (mbox, Maildir, spool), and
//! the files beside the database (content-addressed mail store in packs, quarantine).

pub mod auth;
pub mod classify;
pub mod compose;
pub mod dsn;
pub mod files;
pub mod fingerprint;
pub mod html;
pub mod imap;
pub mod maildir;
pub mod mbox;
pub mod midx;
pub mod pack;
pub mod parse;
pub mod quarantine;
pub mod send;
pub mod spool;
pub mod verp;
