//! Issue 17: a ticket that keeps getting large mail must not make the database grow
//! faster than the mail it holds. Sizes only; the timings are in `cargo bench
//! --bench growth`, whose generated support mail this test delivers too.

use crate::common::Env;

#[allow(dead_code)]
#[path = "../../benches/common/mod.rs"]
mod bench;

use bench::corpus::Corpus;
use bench::dir_size;

/// Each message's size, raw: its text is cut to 64 KB in the ticket, whole in the
/// mail store.
const SIZE: usize = 100_000;
const REPLIES: usize = 60;
const NEW_TICKETS: usize = 10;

#[test]

fn large_replies_to_one_ticket_keep_the_database_near_the_size_of_its_mail() {
    let env = Env::new();
    let mut corpus = Corpus::new(17);
    let first = corpus.large_request("growth", 0, SIZE);
    env.deliver(std::str::from_utf8(&first.delivery()).unwrap());
    let mut parent = first.thread;
    for i in 1..=REPLIES {
        let reply = corpus.large_reply("growth", i, &parent, SIZE);
        env.deliver(std::str::from_utf8(&reply.delivery()).unwrap());
        parent = reply.thread;
    }
    for i in 0..NEW_TICKETS {
        let request = corpus.large_request("growth-new", i, SIZE);
        env.deliver(std::str::from_utf8(&request.delivery()).unwrap());
    }
    assert_eq!(
        env.list(&[]).len(),
        1 + NEW_TICKETS,
        "every reply joined ticket 1"
    );

    let db = env.db();
    let sled = dir_size(&db.join("sled"));
    let mail = dir_size(&db.join("mail"));
    let blob_dir = db.join("sled/blobs");
    let blobs = std::fs::read_dir(&blob_dir).map_or(0, |rd| rd.count());
    let blob_bytes = dir_size(&blob_dir);
    let bound = 2 * mail + 10_000_000;
    let figures = format!(
        "{} messages of {SIZE} bytes: sled/ {sled} bytes, mail/ {mail} bytes (bound 2 x mail + 10 MB = {bound}), sled/blobs {blobs} files, {blob_bytes} bytes",
        1 + REPLIES + NEW_TICKETS
    );
    // Once no value comes near sled's 128 KB blob threshold, a file in sled/blobs
    // after the commands ended is one a command left behind.
    assert_eq!(
        blob_bytes, 0,
        "blob files outlived their commands: {figures}"
    );
    assert!(sled < bound, "the database outgrew its mail: {figures}");
}
