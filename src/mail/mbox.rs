//! Streaming mbox reader (mboxrd and mboxo): one message at a time, never the whole
//! file, and never more of a message than a limit.

use std::io::{BufRead, Read};

/// Bytes read at a time: a line longer than this is read in pieces.
const CHUNK: u64 = 64 * 1024;
/// What is kept of a message over the limit: enough for its headers.
pub const HEAD: usize = 64 * 1024;

/// One message of an mbox.
#[derive(Debug, PartialEq)]
pub enum Entry {
    Message(Vec<u8>),
    /// A message over the limit: its first [`HEAD`] bytes, its size, and the offset
    /// of its `From ` line in the mbox.
    TooLarge {
        head: Vec<u8>,
        size: u64,
        offset: u64,
    },
}

/// Yields the messages of an mbox, `>From ` unescaped (one `>` removed, as mboxrd).
/// A message over `limit` bytes is skipped but for its head ([`Entry::TooLarge`]),
/// so memory stays within the limit whatever the mbox holds.
pub struct MboxReader<R> {
    input: R,
    limit: usize,
    line: Vec<u8>,
    /// Bytes of the input consumed.
    offset: u64,
    /// Whether the next byte read starts a line.
    at_line_start: bool,
    /// Whether the rest of a long `From ` line is still to be skipped.
    in_separator: bool,
    /// Where the `From ` line of the next message starts.
    message_offset: u64,
    started: bool,
    done: bool,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R, limit: usize) -> Self {
        MboxReader {
            input,
            limit,
            line: Vec::new(),
            offset: 0,
            at_line_start: true,
            in_separator: false,
            message_offset: 0,
            started: false,
            done: false,
        }
    }

    /// Reads a line, or the next [`CHUNK`] bytes of a longer one; false at the end.
    fn read_piece(&mut self) -> std::io::Result<(bool, bool)> {
        self.line.clear();
        let line_start = self.at_line_start;
        let n = (&mut self.input)
            .take(CHUNK)
            .read_until(b'\n', &mut self.line)?;
        self.offset += n as u64;
        self.at_line_start = self.line.ends_with(b"\n");
        Ok((n > 0, line_start))
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = std::io::Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut message = Vec::new();
        let mut size = 0u64;
        let mut offset = self.message_offset;
        loop {
            let line_start = match self.read_piece() {
                Err(e) => return Some(Err(e)),
                Ok((false, _)) => {
                    self.done = true;
                    break;
                }
                Ok((true, line_start)) => line_start,
            };
            if line_start && self.line.starts_with(b"From ") {
                // The separator is dropped; it starts the next message.
                self.in_separator = !self.at_line_start;
                self.message_offset = self.offset - self.line.len() as u64;
                if self.started {
                    break;
                }
                self.started = true;
                offset = self.message_offset;
                continue;
            }
            if !line_start && self.in_separator {
                self.in_separator = !self.at_line_start;
                continue; // the rest of a long `From ` line
            }
            if !self.started {
                continue; // junk before the first separator
            }
            let unescaped = match self.line.iter().position(|b| *b != b'>') {
                Some(n) if line_start && n > 0 && self.line[n..].starts_with(b"From ") => {
                    &self.line[1..]
                }
                _ => &self.line[..],
            };
            size += unescaped.len() as u64;
            let room = if size > self.limit as u64 {
                HEAD
            } else {
                self.limit
            };
            let keep = unescaped.len().min(room.saturating_sub(message.len()));
            message.extend_from_slice(&unescaped[..keep]);
            if size > self.limit as u64 {
                message.truncate(HEAD);
            }
        }
        if size > self.limit as u64 {
            return Some(Ok(Entry::TooLarge {
                head: message,
                size,
                offset,
            }));
        }
        // The blank line before a separator belongs to the mbox format, not the message.
        if message.ends_with(b"\n\n") {
            message.pop();
        } else if message.ends_with(b"\r\n\r\n") {
            message.truncate(message.len() - 2);
        }
        if message.is_empty() && self.done {
            return None;
        }
        Some(Ok(Entry::Message(message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_unescapes() {
        let mbox = b"From a@b Tue Nov 24 10:00:00 2026\nSubject: one\n\n>From here\n>>From there\n\nFrom c@d Tue Nov 24 10:01:00 2026\nSubject: two\n\nbody\n";
        let msgs: Vec<_> = MboxReader::new(&mbox[..], 1 << 20)
            .map(|m| m.unwrap())
            .collect();
        assert_eq!(
            msgs,
            [
                Entry::Message(b"Subject: one\n\nFrom here\n>From there\n".to_vec()),
                Entry::Message(b"Subject: two\n\nbody\n".to_vec())
            ]
        );
    }

    #[test]
    fn empty_input_has_no_messages() {
        assert_eq!(MboxReader::new(&b""[..], 1 << 20).count(), 0);
    }

    /// The reader's memory is bounded by the limit, not by what the mbox holds: a
    /// message over it (even one endless line) comes back as its head and size.
    #[test]
    fn a_message_over_the_limit_is_skipped_but_for_its_head() {
        let limit = 1 << 20;
        let mut mbox = b"From a@b Tue Nov 24 10:00:00 2026\nSubject: big\n\n".to_vec();
        mbox.resize(mbox.len() + 10 * limit, b'x'); // one line of 10 MB
        mbox.extend_from_slice(b"\n\nFrom c@d Tue Nov 24 10:01:00 2026\nSubject: two\n\nbody\n");
        let mut reader = MboxReader::new(&mbox[..], limit);
        let Some(Ok(Entry::TooLarge { head, size, offset })) = reader.next() else {
            panic!("the first message is not reported as too large");
        };
        assert_eq!(
            (head.len(), size, offset),
            (HEAD, 10 * limit as u64 + 16, 0)
        );
        assert!(head.starts_with(b"Subject: big\n"));
        assert!(
            reader.line.capacity() <= 2 * CHUNK as usize,
            "a line was read whole"
        );
        assert_eq!(
            reader.next().unwrap().unwrap(),
            Entry::Message(b"Subject: two\n\nbody\n".to_vec())
        );
        assert!(reader.next().is_none());
    }
}
