//! A check of YAML text before serde_yaml builds anything from it: refuses
//! aliases that copy more than [`MAX_ALIAS_NODES`] nodes or [`MAX_ALIAS_BYTES`]
//! of text in all.
//!
//! serde_yaml builds a full copy of an anchor's node for every alias to it, so a
//! few hundred KB of aliases expand to gigabytes ("billion laughs"); its own limit
//! counts alias uses, not what they copy. Here each anchor's expanded size is
//! recorded once and each alias adds it, so the check costs one pass over the
//! events of the text, however much the aliases would copy. The events come from
//! libyaml, the parser serde_yaml itself runs, so both read the same document; a
//! syntax error ends the check and is left to serde_yaml to report (it builds
//! only what came before the error, and that was counted).

use std::collections::HashMap;
use std::fmt;

/// Nodes (scalars, lists, mappings) that aliases may copy in one load. Aliases in a
/// hand-written file share a few lists or texts, hundreds of nodes; a thousand
/// times that still builds in tens of milliseconds and some 10 MB.
pub const MAX_ALIAS_NODES: u64 = 100_000;
/// Bytes of scalar text that aliases may copy in one load.
pub const MAX_ALIAS_BYTES: u64 = 4 << 20;

/// What aliases may still copy: one budget for all the documents of one load
/// (the config file; every rule file and chunk of a rule set).
#[derive(Debug)]
pub struct Budget {
    nodes: u64,
    bytes: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            nodes: MAX_ALIAS_NODES,
            bytes: MAX_ALIAS_BYTES,
        }
    }
}

/// Why a text was refused, and where (1-based line and column, as serde_yaml's).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Expanded size of a node: itself, its children, and what their aliases copy.
#[derive(Clone, Copy, Debug, Default)]
struct Size {
    nodes: u64,
    bytes: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }

    fn since(self, start: Size) -> Size {
        Size {
            nodes: self.nodes - start.nodes,
            bytes: self.bytes - start.bytes,
        }
    }
}

/// The anchors of a document, numbered in order of definition as serde_yaml
/// does: a name defined again names its latest node from there on.
#[derive(Default)]
struct Anchors {
    ids: HashMap<Vec<u8>, usize>,
    /// By id; None while the node is still open.
    sizes: Vec<Option<Size>>,
}

impl Anchors {
    fn define(&mut self, name: Vec<u8>, size: Option<Size>) -> usize {
        self.sizes.push(size);
        self.ids.insert(name, self.sizes.len() - 1);
        self.sizes.len() - 1
    }
}

impl Budget {
    /// Counts what the aliases of `text` copy against the budget; refuses at the
    /// alias that goes past it, or at one inside the node it names.
    pub fn check(&mut self, text: &str) -> Result<(), Refused> {
        // No alias without a `*`: most files skip the parse.
        if !text.contains('*') {
            return Ok(());
        }
        let mut anchors = Anchors::default();
        // Open lists and mappings: their anchor id and the total when they began.
        let mut open: Vec<(Option<usize>, Size)> = Vec::new();
        let mut total = Size::default();
        let mut events = libyaml::Events::new(text.as_bytes());
        while let Some((event, line, column)) = events.next() {
            let refuse = |message: String| Refused {
                line: line + 1,
                column: column + 1,
                message,
            };
            match event {
                libyaml::Event::DocumentStart => {
                    anchors = Anchors::default();
                    open.clear();
                }
                libyaml::Event::Scalar { anchor, len } => {
                    let size = Size {
                        nodes: 1,
                        bytes: len,
                    };
                    total.add(size);
                    if let Some(name) = anchor {
                        anchors.define(name, Some(size));
                    }
                }
                libyaml::Event::Start { anchor } => {
                    let id = anchor.map(|name| anchors.define(name, None));
                    open.push((id, total));
                    total.nodes = total.nodes.saturating_add(1);
                }
                libyaml::Event::End => {
                    if let Some((Some(id), start)) = open.pop() {
                        anchors.sizes[id] = Some(total.since(start));
                    }
                }
                libyaml::Event::Alias(name) => {
                    // An unknown anchor is serde_yaml's error to report.
                    let Some(&id) = anchors.ids.get(&name) else {
                        continue;
                    };
                    let Some(size) = anchors.sizes[id] else {
                        return Err(refuse(format!(
                            "alias *{} is inside the node it names",
                            String::from_utf8_lossy(&name)
                        )));
                    };
                    if size.nodes > self.nodes || size.bytes > self.bytes {
                        return Err(refuse(format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes or {} MiB of text; refused before building it",
                            MAX_ALIAS_BYTES >> 20
                        )));
                    }
                    self.nodes -= size.nodes;
                    self.bytes -= size.bytes;
                    total.add(size);
                }
            }
        }
        Ok(())
    }
}

/// The events of libyaml's parser (the `unsafe_libyaml` crate, as serde_yaml reads
/// them), reduced to what the count needs.
mod libyaml {
    use std::ffi::{c_char, CStr};
    use std::marker::PhantomData;
    use std::mem::MaybeUninit;

    use unsafe_libyaml::{
        yaml_event_delete, yaml_event_t, yaml_parser_delete, yaml_parser_initialize,
        yaml_parser_parse, yaml_parser_set_encoding, yaml_parser_set_input_string, yaml_parser_t,
        YAML_ALIAS_EVENT, YAML_DOCUMENT_START_EVENT, YAML_MAPPING_END_EVENT,
        YAML_MAPPING_START_EVENT, YAML_SCALAR_EVENT, YAML_SEQUENCE_END_EVENT,
        YAML_SEQUENCE_START_EVENT, YAML_STREAM_END_EVENT, YAML_UTF8_ENCODING,
    };

    pub enum Event {
        DocumentStart,
        Scalar {
            anchor: Option<Vec<u8>>,
            len: u64,
        },
        /// A list or mapping begins.
        Start {
            anchor: Option<Vec<u8>>,
        },
        /// A list or mapping ends.
        End,
        Alias(Vec<u8>),
    }

    /// A parser over borrowed text; ends at the end of the stream or the first error.
    pub struct Events<'a> {
        // Boxed: libyaml's parser must not move once initialised.
        parser: Box<MaybeUninit<yaml_parser_t>>,
        done: bool,
        _input: PhantomData<&'a [u8]>,
    }

    impl<'a> Events<'a> {
        pub fn new(input: &'a [u8]) -> Events<'a> {
            let mut parser = Box::new(MaybeUninit::<yaml_parser_t>::uninit());
            // SAFETY: initialise writes the whole struct; the input outlives the
            // parser (the lifetime 'a), which reads it in place.
            unsafe {
                let p = parser.as_mut_ptr();
                if yaml_parser_initialize(p).fail {
                    panic!("libyaml: out of memory");
                }
                yaml_parser_set_encoding(p, YAML_UTF8_ENCODING);
                yaml_parser_set_input_string(p, input.as_ptr(), input.len() as u64);
            }
            Events {
                parser,
                done: false,
                _input: PhantomData,
            }
        }

        /// The next event with its 0-based line and column; None at the end or
        /// after an error (libyaml must not be called again after either).
        pub fn next(&mut self) -> Option<(Event, usize, usize)> {
            while !self.done {
                let mut event = MaybeUninit::<yaml_event_t>::uninit();
                // SAFETY: the parser was initialised in `new`; on success the event
                // is initialised, read here, and deleted once.
                unsafe {
                    let e = event.as_mut_ptr();
                    if yaml_parser_parse(self.parser.as_mut_ptr(), e).fail {
                        self.done = true;
                        return None;
                    }
                    let mark = (*e).start_mark;
                    let converted = match (*e).type_ {
                        YAML_DOCUMENT_START_EVENT => Some(Event::DocumentStart),
                        YAML_SCALAR_EVENT => Some(Event::Scalar {
                            anchor: name((*e).data.scalar.anchor),
                            len: (*e).data.scalar.length,
                        }),
                        YAML_SEQUENCE_START_EVENT => Some(Event::Start {
                            anchor: name((*e).data.sequence_start.anchor),
                        }),
                        YAML_MAPPING_START_EVENT => Some(Event::Start {
                            anchor: name((*e).data.mapping_start.anchor),
                        }),
                        YAML_SEQUENCE_END_EVENT | YAML_MAPPING_END_EVENT => Some(Event::End),
                        YAML_ALIAS_EVENT => name((*e).data.alias.anchor).map(Event::Alias),
                        YAML_STREAM_END_EVENT => {
                            self.done = true;
                            None
                        }
                        // Stream start, document end: nothing to count.
                        _ => None,
                    };
                    yaml_event_delete(e);
                    if let Some(event) = converted {
                        return Some((event, mark.line as usize, mark.column as usize));
                    }
                }
            }
            None
        }
    }

    /// An anchor's name: a NUL-terminated string owned by the event, or null.
    unsafe fn name(ptr: *const u8) -> Option<Vec<u8>> {
        // SAFETY: libyaml's anchors are NUL-terminated and live until the event
        // is deleted, after this copy.
        (!ptr.is_null()).then(|| {
            unsafe { CStr::from_ptr(ptr as *const c_char) }
                .to_bytes()
                .to_vec()
        })
    }

    impl Drop for Events<'_> {
        fn drop(&mut self) {
            // SAFETY: initialised in `new`, deleted once.
            unsafe { yaml_parser_delete(self.parser.as_mut_ptr()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), Refused> {
        Budget::default().check(text)
    }

    /// `levels` nested lists of ten aliases each over a ten-item list: 10^(levels+1) nodes.
    fn laughs(levels: usize) -> String {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..=levels {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn small_aliases_pass() {
        assert_eq!(check(&laughs(3)), Ok(()));
        assert_eq!(check("a: &x {b: [1, 2]}\nc: *x\nd: '*'\n"), Ok(()));
    }

    #[test]
    fn an_expansion_past_the_bound_names_the_alias() {
        let err = check(&laughs(6)).unwrap_err();
        // Lines 2-4 copy 12,330 nodes, each alias of line 5 11,111: the 8th is too many.
        assert_eq!((err.line, err.column), (5, 45), "{err:?}");
        assert!(err
            .message
            .contains("aliases expand to more than 100000 nodes"));
    }

    #[test]
    fn copied_text_counts() {
        let big = "y".repeat(1 << 20);
        let text = format!("a: &a {big}\nb: [*a, *a, *a, *a]\n");
        assert_eq!(check(&text), Ok(()));
        let text = format!("a: &a {big}\nb: [*a, *a, *a, *a, *a]\n");
        let err = check(&text).unwrap_err();
        assert_eq!((err.line, err.column), (2, 21));
    }

    #[test]
    fn one_budget_spans_the_chunks_of_a_load() {
        let mut budget = Budget::default();
        let chunk = laughs(3); // copies 12,330 nodes
        for _ in 0..8 {
            budget.check(&chunk).unwrap();
        }
        assert!(budget.check(&chunk).is_err());
    }

    #[test]
    fn an_alias_inside_its_own_anchor_is_refused() {
        let err = check("a: &x [1, *x]\n").unwrap_err();
        assert_eq!(err.message, "alias *x is inside the node it names");
        assert_eq!((err.line, err.column), (1, 11));
    }

    #[test]
    fn a_redefined_anchor_counts_its_latest_node() {
        let list = vec!["x"; 60_000].join(", ");
        let text = format!("a: &x [{list}]\nb: &x y\nc: [*x, *x]\n");
        assert_eq!(check(&text), Ok(()));
    }

    #[test]
    fn syntax_errors_are_left_to_serde_yaml() {
        assert_eq!(check("a: *x\nb: [unclosed\n"), Ok(()));
    }
}
