//! JSON whose strings keep the exact text and still cannot drive a terminal.
//! serde_json escapes the C0 controls (ESC, BEL) but writes DEL, the C1 controls
//! and the bidi overrides as they are; this writes those as `\uXXXX` too, which a
//! JSON reader turns back into the same characters.

use std::io::{self, Write};

use serde_json::ser::Formatter;

use super::terminal;

/// Whether any byte is DEL (0x7f) or above, eight bytes at a time: for a byte below
/// 0x7f, neither it nor it plus one has the high bit; 0x7f plus one has it, and so
/// has every byte from 0x80 (a carry out of 0xff only reaches the next byte once the
/// answer is already yes).
fn has_byte_from_del(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let found = words.by_ref().any(|w| {
        let w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
        (w | w.wrapping_add(ONES)) & HIGH != 0
    });
    found || words.remainder().iter().any(|b| *b >= 0x7f)
}

/// A serde_json formatter (compact or pretty) with that one change.
pub struct TerminalSafe<F>(pub F);

impl<F: Formatter> Formatter for TerminalSafe<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Most text is ASCII without DEL: one scan a word at a time, then serde_json's
        // own writing (a byte-by-byte scan cost a fifth more instructions on a 6 MB
        // listing).
        if !has_byte_from_del(fragment.as_bytes()) {
            return self.0.write_string_fragment(writer, fragment);
        }
        let mut rest = fragment;
        while let Some((at, c)) = rest
            .char_indices()
            .find(|(_, c)| terminal::acts_on_terminal(*c))
        {
            self.0.write_string_fragment(writer, &rest[..at])?;
            // Every such character is in the Basic Multilingual Plane: four digits do.
            write!(writer, "\\u{:04x}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_string_fragment(writer, rest)
    }

    // The layout (indentation of the pretty formatter) is the inner formatter's.

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::ser::{CompactFormatter, PrettyFormatter};

    use super::*;

    fn write<F: Formatter>(value: &serde_json::Value, formatter: F) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, TerminalSafe(formatter));
        value.serialize(&mut ser).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn c1_del_and_bidi_overrides_are_escaped_and_read_back_exactly() {
        let text = "a\u{1b}[2J\u{9b}1m\u{7f}\u{202e}txt\u{2069} é 😀";
        let value = serde_json::json!({ "subject": text });
        let json = write(&value, CompactFormatter);
        assert_eq!(
            json,
            r#"{"subject":"a\u001b[2J\u009b1m\u007f\u202etxt\u2069 é 😀"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn pretty_layout_is_kept() {
        let value = serde_json::json!({ "a": [1, "\u{85}"] });
        let expected = "{\n  \"a\": [\n    1,\n    \"\\u0085\"\n  ]\n}";
        assert_eq!(write(&value, PrettyFormatter::new()), expected);
    }
}
