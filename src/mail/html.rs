//! Readable text from the html of a mail, in time and memory bounded by its size.
//!
//! html2text renders well, but its cost grows with the square of the nesting (100,000
//! nested `<div>` in 1.1 MB took 36 s) and its memory to some 90 times the input, and
//! html5ever, below it, compares each attribute of a tag with all before it. So html
//! is measured first by a linear scan; within the bounds html2text converts it, beyond
//! them a linear tag stripper does, and the text says so.

/// Larger html is stripped of its tags instead of rendered. At this size html2text
/// took up to 0.2 s and 62 MB in the costliest shapes tried (wide and nested tables;
/// `cargo bench --bench hostile -- bounds`); real mail bodies are far smaller.
pub const MAX_RENDERED_BYTES: usize = 256 * 1024;
/// Deeper nesting (of elements that can contain themselves) is stripped instead of
/// rendered: html2text spends time in proportion to depth times content.
pub const MAX_RENDERED_DEPTH: usize = 100;
/// A longer tag is stripped instead of rendered (html5ever checks every attribute
/// against those before it, quadratic in a tag's attributes).
pub const MAX_RENDERED_TAG: usize = 8 * 1024;

/// The text of `html`, and a note for the reader when its tags had to be stripped.
pub fn to_text(html: &str) -> (String, Option<String>) {
    match why_not_rendered(html) {
        None => {
            let text = html2text::from_read(html.as_bytes(), 78).unwrap_or_else(|_| strip(html));
            (text, None)
        }
        Some(why) => (
            strip(html),
            Some(format!("html {why}: converted by stripping tags")),
        ),
    }
}

/// What bounds the cost of rendering: nesting and the longest tag.
#[derive(Debug, Default, PartialEq)]
struct Shape {
    depth: usize,
    longest_tag: usize,
}

impl Shape {
    fn of(html: &str) -> Shape {
        let mut shape = Shape::default();
        let mut open = 0usize;
        for token in Tokens::new(html) {
            if let Token::Tag { name, end, len } = token {
                shape.longest_tag = shape.longest_tag.max(len);
                if nests(name) {
                    if end {
                        open = open.saturating_sub(1);
                    } else {
                        open += 1;
                        shape.depth = shape.depth.max(open);
                    }
                }
            }
        }
        shape
    }
}

/// Why `html` is beyond the bounds of rendering, if it is; large html is not scanned.
fn why_not_rendered(html: &str) -> Option<String> {
    if html.len() > MAX_RENDERED_BYTES {
        return Some(format!(
            "{} KB (over {} KB)",
            html.len() / 1024,
            MAX_RENDERED_BYTES / 1024
        ));
    }
    let shape = Shape::of(html);
    if shape.depth > MAX_RENDERED_DEPTH {
        Some(format!(
            "nested {} levels deep (over {MAX_RENDERED_DEPTH})",
            shape.depth
        ))
    } else if shape.longest_tag > MAX_RENDERED_TAG {
        Some(format!(
            "a tag of {} KB (over {} KB)",
            shape.longest_tag / 1024,
            MAX_RENDERED_TAG / 1024
        ))
    } else {
        None
    }
}

/// Whether an element can hold another of its kind, so that unclosed ones deepen the
/// tree. Void elements never hold anything; `<p>`, `<li>`, `<td>` and the like are
/// closed by the next of their kind.
fn nests(name: &str) -> bool {
    const FLAT: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt",
        "rp", "tbody", "thead", "tfoot", "colgroup", "caption", "html", "head", "body", "script",
        "style", "title",
    ];
    !FLAT.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Text of the html with the tags stripped, in one pass: the content of `<script>`,
/// `<style>` and `<title>` dropped, block-level tags turned into line breaks, runs of
/// white space collapsed, entities decoded.
pub fn strip(html: &str) -> String {
    let mut lines = Lines::default();
    for token in Tokens::new(html) {
        match token {
            Token::Text(text) => {
                let mut decoded = String::new();
                let text = html_escape::decode_html_entities_to_string(text, &mut decoded);
                if text.starts_with(|c: char| c.is_ascii_whitespace()) {
                    lines.space = true;
                }
                for (i, word) in text.split_ascii_whitespace().enumerate() {
                    lines.space |= i > 0;
                    lines.word(word);
                }
                if text.ends_with(|c: char| c.is_ascii_whitespace()) {
                    lines.space = true;
                }
            }
            Token::Tag { name, .. } if is_block(name) => lines.line_break(),
            Token::Tag { .. } => {}
        }
    }
    let mut out = lines.out;
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

/// Text being laid out: words separated by one space, at most one blank line.
#[derive(Default)]
struct Lines {
    out: String,
    /// White space was seen since the last word.
    space: bool,
    /// Line breaks at the end of `out`.
    breaks: usize,
}

impl Lines {
    fn word(&mut self, word: &str) {
        if self.space && self.breaks == 0 && !self.out.is_empty() {
            self.out.push(' ');
        }
        self.out.push_str(word);
        self.space = false;
        self.breaks = 0;
    }

    fn line_break(&mut self) {
        if !self.out.is_empty() && self.breaks < 2 {
            self.out.push('\n');
            self.breaks += 1;
        }
        self.space = false;
    }
}

fn is_block(name: &str) -> bool {
    const BLOCK: &[&str] = &[
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    ];
    BLOCK.iter().any(|b| b.eq_ignore_ascii_case(name))
}

/// A piece of html: text (entities not decoded) or a tag.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Text(&'a str),
    /// `len`: the tag's bytes, from `<` to `>`.
    Tag {
        name: &'a str,
        end: bool,
        len: usize,
    },
}

/// A linear, forgiving html tokenizer: comments, doctypes and processing instructions
/// are skipped, and so is the content of `<script>`, `<style>` and `<title>` up to
/// their end tag. Every byte is looked at a bounded number of times.
struct Tokens<'a> {
    html: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn new(html: &'a str) -> Tokens<'a> {
        Tokens { html, pos: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        &self.html.as_bytes()[self.pos..]
    }

    /// Moves past the first `needle` (ASCII, matched without case) or to the end.
    fn skip_past(&mut self, needle: &[u8]) {
        let found = self
            .rest()
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle));
        self.pos = match found {
            Some(at) => self.pos + at + needle.len(),
            None => self.html.len(),
        };
    }

    /// The end of the tag starting at `self.pos` (just past its `>`), skipping `>`
    /// inside attribute values quoted after `=`.
    fn tag_end(&self) -> usize {
        let bytes = self.rest();
        let mut quote = None;
        let mut after_equals = false;
        for (i, &b) in bytes.iter().enumerate().skip(1) {
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b'>' => return self.pos + i + 1,
                    b'"' | b'\'' if after_equals => quote = Some(b),
                    b'=' => after_equals = true,
                    b if b.is_ascii_whitespace() => {}
                    _ => after_equals = false,
                },
            }
        }
        self.html.len()
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return None;
            }
            if rest[0] != b'<' {
                let len = rest.iter().position(|&b| b == b'<').unwrap_or(rest.len());
                let text = &self.html[self.pos..self.pos + len];
                self.pos += len;
                return Some(Token::Text(text));
            }
            if rest.starts_with(b"<!--") {
                self.pos += 4;
                self.skip_past(b"-->");
                continue;
            }
            let end = rest.get(1) == Some(&b'/');
            let name_at = if end { 2 } else { 1 };
            let name_len = rest[name_at..]
                .iter()
                .position(|b| !b.is_ascii_alphanumeric())
                .unwrap_or(rest.len() - name_at);
            let starts_like_tag = rest.get(name_at).is_some_and(u8::is_ascii_alphabetic);
            if !starts_like_tag && !matches!(rest.get(1), Some(b'!' | b'?' | b'/')) {
                // A lone `<` is text.
                self.pos += 1;
                return Some(Token::Text(&self.html[self.pos - 1..self.pos]));
            }
            let start = self.pos;
            self.pos = self.tag_end();
            if !starts_like_tag {
                continue; // <!DOCTYPE ...>, <?xml ...?>, </ >
            }
            // Tag names are ASCII alphanumerics: the slice is on char boundaries.
            let name = &self.html[start + name_at..start + name_at + name_len];
            if !end {
                for raw in ["script", "style", "title"] {
                    if name.eq_ignore_ascii_case(raw) {
                        self.skip_past(format!("</{raw}").as_bytes());
                        self.skip_past(b">");
                    }
                }
            }
            return Some(Token::Tag {
                name,
                end,
                len: self.pos - start,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripping_keeps_the_words_and_the_lines() {
        let html = "<html><head><title>T</title><style>p { x: 1 }</style></head><body>\
            <p>Hello&nbsp;<b>world</b> &amp; you</p><script>alert('<p>')</script>\
            <div>line <a href=\"x>y\">two</a></div><!-- <p>no</p> -->3 &lt; 4<br>end</body></html>";
        assert_eq!(
            strip(html),
            "Hello\u{a0}world & you\n\nline two\n3 < 4\nend\n"
        );
    }

    #[test]
    fn a_lone_angle_bracket_is_text() {
        assert_eq!(strip("a < b and c <3"), "a < b and c <3\n");
    }

    #[test]
    fn nesting_counts_elements_that_hold_their_kind() {
        let deep = "<div>".repeat(150);
        assert_eq!(Shape::of(&deep).depth, 150);
        let flat = "<p>x".repeat(150) + &"<li>y".repeat(150) + &"<br>".repeat(150);
        assert_eq!(Shape::of(&flat).depth, 0);
        let closed = "<div>x</div>".repeat(150);
        assert_eq!(Shape::of(&closed).depth, 1);
    }

    #[test]
    fn deep_html_is_stripped_and_says_so() {
        let html = format!("{}hello{}", "<div>".repeat(1000), "</div>".repeat(1000));
        let (text, problem) = to_text(&html);
        assert_eq!(text, "hello\n");
        assert_eq!(
            problem.as_deref(),
            Some("html nested 1000 levels deep (over 100): converted by stripping tags")
        );
    }

    #[test]
    fn ordinary_html_is_rendered() {
        let (text, problem) = to_text("<p>one</p><ul><li>two</li></ul>");
        assert_eq!(problem, None);
        assert!(text.contains("* two"), "{text}");
    }

    #[test]
    fn a_tag_of_many_attributes_is_not_rendered() {
        let attrs: String = (0..2000).map(|i| format!(" a{i}=1")).collect();
        let (_, problem) = to_text(&format!("<p{attrs}>x</p>"));
        assert!(problem.unwrap().contains("a tag of"));
    }
}
