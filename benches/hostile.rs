//! Hostile mail, timed: deep and large html piped to `ingest`, a large mbox, and an
//! ordinary delivery queued behind a hostile one (issue #16). Reports the wall time
//! and peak RSS of each postdesk process.
//!
//! `cargo bench --bench hostile [-- CASE...]`, cases: nested, html10, html30, mbox,
//! mbox-max (messages near and over `ingest.max_message_size`), queued (all by
//! default), and bounds: the html shapes that are still rendered by
//! html2text, each just within the bounds of `mail::html` (`ingest --dry-run`). `BENCH_BIN` times another build; `BENCH_TIMEOUT`
//! (seconds, default 300) kills a run that takes longer.

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONFIG: &str = "settings:\n  db: db\n  timezone: UTC\n";

/// An html message of about `html.len()` bytes from `from`.
fn html_mail(n: usize, html: &str) -> Vec<u8> {
    format!(
        "From: Sender {n} <sender{n}@customer.example>\nTo: help@desk.example\n\
         Subject: html message {n}\nMessage-ID: <hostile-{n}@customer.example>\n\
         Date: Mon, 30 Nov 2026 02:00:00 +0000\nMIME-Version: 1.0\n\
         Content-Type: text/html; charset=utf-8\n\n{html}\n"
    )
    .into_bytes()
}

fn ordinary_mail(n: usize) -> Vec<u8> {
    format!(
        "From: Customer <customer{n}@corp.example>\nTo: help@desk.example\n\
         Subject: printer on floor {n} is jammed\nMessage-ID: <ordinary-{n}@corp.example>\n\
         Date: Mon, 30 Nov 2026 02:00:00 +0000\n\nHello,\n\nthe printer is jammed again.\n\nThanks\n"
    )
    .into_bytes()
}

/// `levels` nested `<div>`s around one word: 1.1 MB for 100,000.
fn nested_divs(levels: usize) -> String {
    format!("{}deep{}", "<div>".repeat(levels), "</div>".repeat(levels))
}

/// Ordinary-looking html (paragraphs, links, a table now and then) of about `bytes`.
fn flat_html(bytes: usize) -> String {
    let mut html = String::with_capacity(bytes + 512);
    html.push_str("<html><head><style>p { margin: 0 }</style></head><body>\n");
    let mut i = 0;
    while html.len() < bytes {
        i += 1;
        let _ = writeln!(
            html,
            "<p>Paragraph {i}: the <b>quarterly</b> report is attached, see \
             <a href=\"https://example.com/r/{i}\">the portal</a> &amp; the notes.</p>"
        );
        if i % 50 == 0 {
            let _ = writeln!(
                html,
                "<table><tr><td>item {i}</td><td>{i}.00</td></tr></table>"
            );
        }
    }
    html.push_str("</body></html>\n");
    html
}

/// Wall time, peak RSS (KB) and exit code of one process.
struct Run {
    wall: Duration,
    max_rss_kb: i64,
    code: Option<i32>,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} s, peak RSS {:.1} MB, exit {}",
            self.wall.as_secs_f64(),
            self.max_rss_kb as f64 / 1024.0,
            self.code.map_or("(signal)".to_string(), |c| c.to_string())
        )
    }
}

fn timeout() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
    )
}

/// Runs postdesk in `dir` with `args`, `stdin` piped in, under `/usr/bin/time` for
/// its peak RSS (a child's own rusage would start from the bench's RSS at the
/// fork); killed after [`timeout`].
fn run(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    use std::os::unix::process::CommandExt;
    let rss_file = dir.join(".max-rss");
    let started = Instant::now();
    let mut child = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&rss_file)
        .arg(common::postdesk_binary())
        .args(args)
        .current_dir(dir)
        .env_remove("POSTDESK_CONFIG")
        .env_remove("POSTDESK_DB")
        .env("POSTDESK_USER", "alice")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("run /usr/bin/time postdesk");
    let group = child.id() as libc::pid_t;
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let limit = timeout();
    std::thread::spawn(move || {
        if finished.recv_timeout(limit).is_err() {
            // SAFETY: kill only sends a signal, to the group of our own child.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
    });
    let status = child.wait().expect("wait for postdesk");
    let wall = started.elapsed();
    let _ = done.send(());
    let max_rss_kb = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|text| {
            text.lines()
                .filter_map(|l| l.trim().parse().ok())
                .next_back()
        })
        .unwrap_or(0);
    Run {
        wall,
        max_rss_kb,
        code: status.code(),
    }
}

/// A fresh helpdesk directory under `root`.
fn desk(root: &Path, name: &str) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("postdesk.yaml"), CONFIG).unwrap();
    dir
}

/// Messages of about `size` bytes in the shapes that cost most to parse, and one over
/// the default size limit.
fn near_the_limit(size: usize) -> Vec<Vec<u8>> {
    let head = |n: usize, ctype: &str| {
        format!(
            "From: Sender <big{n}@customer.example>\nSubject: big {n}\n\
             Message-ID: <big-{n}@customer.example>\nMIME-Version: 1.0\nContent-Type: {ctype}\n"
        )
    };
    let base64_lines =
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5\n".repeat(size / 69);
    let qp_html = "<p>Caf=C3=A9 report, see <a href=3D\"https://example.com\">here</a>.</p>=\n"
        .repeat(size / 73);
    vec![
        // Just under a batch's 16 MB: the next message joins its batch.
        format!(
            "{}\n{}",
            head(0, "text/plain"),
            "A line of a long log paste.\n".repeat((16 << 20) / 28 - 64)
        )
        .into_bytes(),
        html_mail(1, &flat_html(size)),
        format!(
            "{}\n{}",
            head(2, "text/plain"),
            "A line of a very long log paste.\n".repeat(size / 33)
        )
        .into_bytes(),
        format!(
            "{}\n--b\nContent-Type: text/plain\n\nsee attached\n--b\n\
             Content-Type: application/pdf; name=big.pdf\nContent-Transfer-Encoding: base64\n\n\
             {base64_lines}--b--\n",
            head(3, "multipart/mixed; boundary=b")
        )
        .into_bytes(),
        format!(
            "{}Content-Transfer-Encoding: quoted-printable\n\n{qp_html}",
            head(4, "text/html; charset=utf-8")
        )
        .into_bytes(),
        html_mail(5, &flat_html(40 << 20)),
    ]
}

/// Html just within the rendering bounds, in the shapes that cost html2text most.
fn shapes_within_bounds() -> Vec<(&'static str, String)> {
    use postdesk::mail::html::{MAX_RENDERED_BYTES, MAX_RENDERED_DEPTH, MAX_RENDERED_TAG};
    let fill = |unit: &str, room: usize| unit.repeat(room / unit.len());
    let nest = |open: &str, close: &str, inner: &str| {
        let room = MAX_RENDERED_BYTES - MAX_RENDERED_DEPTH * (open.len() + close.len());
        format!(
            "{}{}{}",
            open.repeat(MAX_RENDERED_DEPTH),
            fill(inner, room),
            close.repeat(MAX_RENDERED_DEPTH)
        )
    };
    let attrs: String = (0..)
        .map(|i| format!(" a{i}=1"))
        .take_while({
            let mut len = 0;
            move |a: &String| {
                len += a.len();
                len < MAX_RENDERED_TAG - 8
            }
        })
        .collect();
    vec![
        ("flat paragraphs", flat_html(MAX_RENDERED_BYTES - 1024)),
        ("nested divs around text", nest("<div>", "</div>", "word ")),
        (
            "nested divs, text at every level",
            nest("<div>x ", "</div>", "word "),
        ),
        (
            "nested tables",
            nest("<table><tr><td>", "</td></tr></table>", "word "),
        ),
        ("nested lists", nest("<ul><li>", "</li></ul>", "word ")),
        (
            "nested blockquotes",
            nest("<blockquote>", "</blockquote>", "<p>word</p>"),
        ),
        ("nested inline tags", nest("<b><i>", "</i></b>", "word ")),
        (
            "one wide table row",
            format!(
                "<table><tr>{}</tr></table>",
                fill("<td>c</td>", MAX_RENDERED_BYTES - 40)
            ),
        ),
        (
            "a long table",
            format!(
                "<table>{}</table>",
                fill("<tr><td>a</td><td>b</td></tr>", MAX_RENDERED_BYTES - 40)
            ),
        ),
        (
            "tables in table cells",
            format!(
                "<table><tr>{}</tr></table>",
                fill(
                    "<td><table><tr><td>x</td><td>y</td></tr></table></td>",
                    MAX_RENDERED_BYTES - 40
                )
            ),
        ),
        (
            "tags of many attributes",
            fill(&format!("<p{attrs}>x</p>"), MAX_RENDERED_BYTES),
        ),
        (
            "one long line in pre",
            format!("<pre>{}</pre>", "x".repeat(MAX_RENDERED_BYTES - 20)),
        ),
        ("one long word", "x".repeat(MAX_RENDERED_BYTES - 20)),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let wanted = |case: &str| args.is_empty() || args.iter().any(|a| a == case);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path();
    if wanted("nested") {
        let mail = html_mail(1, &nested_divs(100_000));
        let r = run(&desk(root, "nested"), &["ingest"], &mail);
        println!("ingest, {:.1} MB of 100,000 nested divs: {r}", mb(&mail));
    }
    for (case, size) in [("html10", 10_000_000), ("html30", 30_000_000)] {
        if wanted(case) {
            let mail = html_mail(1, &flat_html(size));
            let r = run(&desk(root, case), &["ingest"], &mail);
            println!("ingest, {:.1} MB of html: {r}", mb(&mail));
        }
    }
    if wanted("mbox") {
        let dir = desk(root, "mbox");
        let html = flat_html(3_600_000);
        let size = write_mbox(
            &dir.join("large.mbox"),
            (0..47).map(|n| html_mail(n, &html)),
        );
        let r = run(&dir, &["ingest", "mbox", "large.mbox"], b"");
        println!(
            "ingest mbox, 47 messages of 3.6 MB html ({:.0} MB): {r}; database {:.0} MB",
            size as f64 / 1e6,
            common::dir_size(&dir.join("db")) as f64 / 1e6
        );
    }
    if wanted("mbox-max") {
        let dir = desk(root, "mbox-max");
        let size = write_mbox(&dir.join("max.mbox"), near_the_limit(31 << 20).into_iter());
        let r = run(&dir, &["ingest", "mbox", "max.mbox"], b"");
        println!(
            "ingest mbox, 16 MB of text, then 31 MiB each of html, text, an attachment, quoted-printable html, then 40 MiB ({:.0} MB): {r}",
            size as f64 / 1e6
        );
    }
    if wanted("bounds") {
        let dir = desk(root, "bounds");
        for (n, (shape, html)) in shapes_within_bounds().into_iter().enumerate() {
            let mail = html_mail(n, &html);
            let r = run(&dir, &["ingest", "--dry-run"], &mail);
            println!(
                "ingest --dry-run, {:.0} KB of {shape}: {r}",
                mail.len() as f64 / 1024.0
            );
        }
    }
    if wanted("queued") {
        let hostile = html_mail(1, &nested_divs(100_000));
        // Both spooled (the drain takes the oldest first), then one drain.
        let dir = desk(root, "queued-spool");
        let spool = dir.join("db/spool");
        std::fs::create_dir_all(&spool).unwrap();
        std::fs::write(spool.join("1.hostile.eml"), &hostile).unwrap();
        std::fs::write(spool.join("2.ordinary.eml"), ordinary_mail(1)).unwrap();
        let r = run(&dir, &["ingest", "spool"], b"");
        println!("ingest spool, a hostile message queued before an ordinary one: {r}");
        // A hostile delivery, and an ordinary one 0.2 s later: it finds the spool being
        // drained, so it only spools, and waits for that drainer to take it in.
        let dir = desk(root, "queued-deliver");
        let started = Instant::now();
        let first = {
            let dir = dir.clone();
            std::thread::spawn(move || run(&dir, &["ingest"], &hostile))
        };
        std::thread::sleep(Duration::from_millis(200));
        let second = run(&dir, &["ingest"], &ordinary_mail(2));
        let first = first.join().unwrap();
        let stored = started.elapsed().as_secs_f64() - 0.2;
        println!("ingest, the hostile delivery: {first}");
        println!(
            "ingest, an ordinary delivery 0.2 s later: {second}; in a ticket {stored:.2} s \
             after it was delivered ({} tickets)",
            tickets(&dir)
        );
    }
}

/// Writes `mails` as an mbox at `path`; returns its size.
fn write_mbox(path: &Path, mails: impl Iterator<Item = Vec<u8>>) -> u64 {
    let mut mbox = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for (n, mail) in mails.enumerate() {
        writeln!(
            mbox,
            "From sender{n}@customer.example Mon Nov 30 02:00:00 2026"
        )
        .unwrap();
        mbox.write_all(&mail).unwrap();
        writeln!(mbox).unwrap();
    }
    mbox.into_inner().unwrap().sync_all().unwrap();
    std::fs::metadata(path).unwrap().len()
}

/// How many tickets the helpdesk in `dir` has.
fn tickets(dir: &Path) -> usize {
    let out = Command::new(common::postdesk_binary())
        .current_dir(dir)
        .env("POSTDESK_USER", "alice")
        .args(["ticket", "list", "--format", "json"])
        .output()
        .expect("run ticket list");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    list.as_array().map_or(0, Vec::len)
}

fn mb(bytes: &[u8]) -> f64 {
    bytes.len() as f64 / 1e6
}
