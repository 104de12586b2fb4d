//! Streaming mbox reader (mboxrd and mboxo): one message at a time, never the whole file.

use std::io::BufRead;

/// Yields the raw messages of an mbox, `>From ` unescaped (one `>` removed, as mboxrd).
pub struct MboxReader<R> {
    input: R,
    line: Vec<u8>,
    started: bool,
    done: bool,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R) -> Self {
        MboxReader {
            input,
            line: Vec::new(),
            started: false,
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = std::io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut message = Vec::new();
        loop {
            self.line.clear();
            match self.input.read_until(b'\n', &mut self.line) {
                Err(e) => return Some(Err(e)),
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(_) => {}
            }
            if self.line.starts_with(b"From ") {
                if self.started {
                    // The separator belongs to the next message: it is dropped anyway.
                    break;
                }
                self.started = true;
                continue;
            }
            if !self.started {
                continue; // junk before the first separator
            }
            let unescaped = match self.line.iter().position(|b| *b != b'>') {
                Some(n) if n > 0 && self.line[n..].starts_with(b"From ") => &self.line[1..],
                _ => &self.line[..],
            };
            message.extend_from_slice(unescaped);
        }
        // The blank line before a separator belongs to the mbox format, not the message.
        if message.ends_with(b"\n\n") {
            message.pop();
        } else if message.ends_with(b"\r\n\r\n") {
            message.truncate(message.len() - 2);
        }
        if message.is_empty() && self.done && !self.started {
            return None;
        }
        if message.is_empty() && self.done {
            return None;
        }
        Some(Ok(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_unescapes() {
        let mbox = b"From a@b Tue Nov 24 10:00:00 2026\nSubject: one\n\n>From here\n>>From there\n\nFrom c@d Tue Nov 24 10:01:00 2026\nSubject: two\n\nbody\n";
        let msgs: Vec<_> = MboxReader::new(&mbox[..]).map(|m| m.unwrap()).collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: one\n\nFrom here\n>From there\n");
        assert_eq!(msgs[1], b"Subject: two\n\nbody\n");
    }

    #[test]
    fn empty_input_has_no_messages() {
        assert_eq!(MboxReader::new(&b""[..]).count(), 0);
    }
}
