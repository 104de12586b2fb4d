//! Mail templates: handlebars, plain text, strict.
//!
//! The set is the built-in defaults ([`BUILTIN`], compiled in from the repo's
//! `templates/*.hbs`), each replaced by `<templates_dir>/NAME.hbs` when there is
//! one, plus any other `*.hbs` there, plus saved replies `<templates_dir>/replies/*.hbs`
//! (named `replies/NAME`). Rendering is strict (a misspelt variable is an error),
//! escapes nothing (mail is plain text), refuses partials and decorators, and caps
//! what it writes at [`MAX_OUTPUT`]. Values are data, never compiled. An error
//! names the file (or `built-in NAME`), the line and the column.
//!
//! A template may start with a line `Subject: TEXT` and a blank line: `TEXT` is
//! rendered as the subject, the rest as the body.

mod compile;
pub mod context;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use handlebars::{Handlebars, RenderErrorReason};

use crate::config::Config;
pub use context::{build as build_context, sample as sample_context, Context, Parts, Person};

/// The built-in templates, name and text: the messages of mail out.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "acknowledge",
        include_str!("../../templates/acknowledge.hbs"),
    ),
    ("closed", include_str!("../../templates/closed.hbs")),
    ("invited", include_str!("../../templates/invited.hbs")),
    ("notify", include_str!("../../templates/notify.hbs")),
    (
        "notify-assigned",
        include_str!("../../templates/notify-assigned.hbs"),
    ),
    (
        "notify-created",
        include_str!("../../templates/notify-created.hbs"),
    ),
    (
        "notify-released",
        include_str!("../../templates/notify-released.hbs"),
    ),
    (
        "notify-transferred",
        include_str!("../../templates/notify-transferred.hbs"),
    ),
    ("reopened", include_str!("../../templates/reopened.hbs")),
    ("reply", include_str!("../../templates/reply.hbs")),
];

/// The most a rendering may write (subject and body each): a larger one is an error.
pub const MAX_OUTPUT: usize = 1 << 20;
/// The largest template file read.
pub const MAX_SOURCE: u64 = 1 << 20;
/// The folder of saved replies inside the templates directory, and their names' prefix.
pub const REPLIES: &str = "replies";

/// Where a template comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    File(PathBuf),
}

/// One template of the set.
#[derive(Clone, Debug)]
pub struct Entry {
    /// `acknowledge`, or `replies/NAME` for a saved reply.
    pub name: String,
    pub origin: Origin,
    /// A file that replaces a built-in template of the same name.
    pub overrides_builtin: bool,
    pub source: String,
}

impl Entry {
    /// The file's path, or `built-in NAME`: what errors start with.
    pub fn label(&self) -> String {
        match &self.origin {
            Origin::Builtin => format!("built-in {}", self.name),
            Origin::File(path) => path.display().to_string(),
        }
    }
}

/// A template that does not compile or render, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub name: String,
    /// The file's path, or `built-in NAME`.
    pub origin: String,
    /// 1-based; 0 when unknown.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        write!(f, ": template '{}': {}", self.name, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Every error of a set that did not load, one per line.
#[derive(Debug)]
pub struct TemplateErrors(pub Vec<TemplateError>);

impl fmt::Display for TemplateErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        write!(f, "broken templates:\n{}", lines.join("\n"))
    }
}

impl std::error::Error for TemplateErrors {}

/// A rendered template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The subject text the template's `Subject:` line gave, on one line: CR, LF
    /// and every other control character are spaces, runs of white space one
    /// space, no space at either end. Never contains CR or LF. None without a
    /// `Subject:` line. Not capped here: the code that builds headers caps it.
    pub subject: Option<String>,
    /// The body, as written (LF line ends, at most [`MAX_OUTPUT`] bytes).
    pub body: String,
}

#[derive(Clone, Copy)]
struct Compiled {
    has_subject: bool,
    body_offset: usize,
}

/// The loaded set. Each template is compiled the first time it is needed: a
/// delivery renders two or three of them, and compiling them all cost more than
/// the rest of its mail. [`Templates::read`] compiles them all at once (to list
/// every error); [`Templates::lazy`] leaves each to its first use.
pub struct Templates {
    entries: Vec<Entry>,
    compiled: RefCell<Registries>,
}

/// The templates compiled so far (or found not to compile), and where.
struct Registries {
    tried: BTreeMap<String, Result<Compiled, TemplateError>>,
    bodies: Handlebars<'static>,
    subjects: Handlebars<'static>,
}

fn registry() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    // handlebars' own `if` and `unless` take a missing variable as false even in
    // strict mode: `{{#if ticket.asignee}}` would never be true, silently.
    hb.register_helper("if", Box::new(StrictIf { positive: true }));
    hb.register_helper("unless", Box::new(StrictIf { positive: false }));
    hb
}

/// `if` / `unless` as handlebars has them, but a missing variable is an error.
struct StrictIf {
    positive: bool,
}

impl handlebars::HelperDef for StrictIf {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &handlebars::Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc handlebars::Context,
        rc: &mut handlebars::RenderContext<'reg, 'rc>,
        out: &mut dyn handlebars::Output,
    ) -> handlebars::HelperResult {
        use handlebars::{JsonTruthy, Renderable};
        let name = if self.positive { "if" } else { "unless" };
        let param = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(name, 0))?;
        if param.is_value_missing() {
            return Err(handlebars::RenderError::strict_error(param.relative_path()));
        }
        let include_zero = h
            .hash_get("includeZero")
            .and_then(|v| v.value().as_bool())
            .unwrap_or(false);
        let value = param.value().is_truthy(include_zero) == self.positive;
        match if value { h.template() } else { h.inverse() } {
            Some(t) => t.render(r, ctx, rc, out),
            None => Ok(()),
        }
    }
}

/// Names of every template of the config: built-ins, `*.hbs` in the templates
/// directory, and saved replies (`replies/NAME`), sorted. What rules may name.
/// Lists files without reading them (rules are loaded by every drain).
pub fn names(config: &Config) -> Vec<String> {
    let dir = config.templates_dir();
    let mut names: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    for (sub, prefix) in [(dir.clone(), ""), (dir.join(REPLIES), "replies/")] {
        for (stem, _) in hbs_files(&sub).unwrap_or_default() {
            names.push(format!("{prefix}{stem}"));
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The `*.hbs` files of `dir` as (stem, path), sorted; a missing directory has none.
fn hbs_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, std::io::Error> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".hbs") else {
            continue;
        };
        if stem.is_empty() || stem.starts_with('.') {
            continue;
        }
        if entry.path().is_dir() {
            continue;
        }
        files.push((stem.to_string(), entry.path()));
    }
    files.sort();
    Ok(files)
}

/// The set's entries (sources read) and the errors of files that cannot be read.
fn entries(dir: &Path) -> (Vec<Entry>, Vec<TemplateError>) {
    let mut found: BTreeMap<String, Entry> = BUILTIN
        .iter()
        .map(|(name, source)| {
            (
                name.to_string(),
                Entry {
                    name: name.to_string(),
                    origin: Origin::Builtin,
                    overrides_builtin: false,
                    source: source.to_string(),
                },
            )
        })
        .collect();
    let mut errors = Vec::new();
    for (sub, prefix) in [(dir.to_path_buf(), ""), (dir.join(REPLIES), "replies/")] {
        let files = match hbs_files(&sub) {
            Ok(files) => files,
            Err(e) => {
                errors.push(TemplateError {
                    name: format!("{prefix}*"),
                    origin: sub.display().to_string(),
                    line: 0,
                    column: 0,
                    message: format!("cannot read the directory: {e}"),
                });
                continue;
            }
        };
        for (stem, path) in files {
            let name = format!("{prefix}{stem}");
            let source = read_source(&path);
            let overrides_builtin = found
                .get(&name)
                .is_some_and(|e| e.origin == Origin::Builtin);
            let entry = Entry {
                name: name.clone(),
                origin: Origin::File(path.clone()),
                overrides_builtin,
                source: source.as_ref().cloned().unwrap_or_default(),
            };
            if let Err(message) = source {
                errors.push(TemplateError {
                    name: name.clone(),
                    origin: path.display().to_string(),
                    line: 0,
                    column: 0,
                    message,
                });
            }
            found.insert(name, entry);
        }
    }
    (found.into_values().collect(), errors)
}

fn read_source(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut text = String::new();
    let read =
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_SOURCE + 1), &mut text);
    match read {
        Ok(n) if n as u64 > MAX_SOURCE => {
            Err(format!("larger than {} KiB: not read", MAX_SOURCE / 1024))
        }
        Ok(_) => Ok(text),
        Err(e) => Err(format!("cannot read: {e}")),
    }
}

impl Templates {
    /// The config's set; every template must compile, else every error.
    pub fn load(config: &Config) -> Result<Templates, TemplateErrors> {
        match Templates::read(config) {
            (set, errors) if errors.is_empty() => Ok(set),
            (_, errors) => Err(TemplateErrors(errors)),
        }
    }

    /// The config's set as far as it compiles, and the errors of the rest.
    pub fn read(config: &Config) -> (Templates, Vec<TemplateError>) {
        Templates::read_dir(&config.templates_dir())
    }

    /// The built-in templates alone.
    pub fn builtin() -> Templates {
        Templates::from_entries(entries(Path::new("")).0)
    }

    /// The set of a templates directory (see [`Templates::read`]).
    pub fn read_dir(dir: &Path) -> (Templates, Vec<TemplateError>) {
        let (set, mut errors) = Templates::lazy_dir(dir);
        let unread = errors.len();
        for entry in &set.entries {
            if let Err(e) = set.compiled(&entry.name) {
                // An unreadable file's error is already there.
                if !errors[..unread].iter().any(|u| u.name == e.name) {
                    errors.push(e);
                }
            }
        }
        (set, errors)
    }

    /// The config's set, each template compiled when first rendered: what
    /// sending mail needs. A template that does not compile fails its own
    /// renderings only.
    pub fn lazy(config: &Config) -> Templates {
        Templates::lazy_dir(&config.templates_dir()).0
    }

    /// The set of `dir`, compiling nothing yet, and the errors of the files that
    /// could not be read (which are not templates of the set).
    fn lazy_dir(dir: &Path) -> (Templates, Vec<TemplateError>) {
        let (entries, errors) = entries(dir);
        let set = Templates::from_entries(entries);
        {
            let mut compiled = set.compiled.borrow_mut();
            for e in &errors {
                compiled.tried.insert(e.name.clone(), Err(e.clone()));
            }
        }
        (set, errors)
    }

    fn from_entries(entries: Vec<Entry>) -> Templates {
        Templates {
            entries,
            compiled: RefCell::new(Registries {
                tried: BTreeMap::new(),
                bodies: registry(),
                subjects: registry(),
            }),
        }
    }

    /// Template `name` compiled (now, if this is its first use), or why not.
    fn compiled(&self, name: &str) -> Result<Compiled, TemplateError> {
        if let Some(tried) = self.compiled.borrow().tried.get(name) {
            return tried.clone();
        }
        let Some(entry) = self.entry(name) else {
            return Err(TemplateError {
                name: name.to_string(),
                origin: name.to_string(),
                line: 0,
                column: 0,
                message: "no such template (see `postdesk template list`)".to_string(),
            });
        };
        let mut registries = self.compiled.borrow_mut();
        let registries = &mut *registries;
        let outcome = match compile::compile(&entry.source) {
            Ok(c) => {
                registries.bodies.register_template(name, c.body);
                let has_subject = c.subject.is_some();
                if let Some(subject) = c.subject {
                    registries.subjects.register_template(name, subject);
                }
                Ok(Compiled {
                    has_subject,
                    body_offset: c.body_offset,
                })
            }
            Err(p) => Err(TemplateError {
                name: name.to_string(),
                origin: entry.label(),
                line: p.line,
                column: p.column,
                message: p.message,
            }),
        };
        registries.tried.insert(name.to_string(), outcome.clone());
        outcome
    }

    /// Every template of the set, by name, compiled or not.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// One template, compiled or not.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Whether `name` is a template of the set that compiles.
    pub fn has(&self, name: &str) -> bool {
        self.compiled(name).is_ok()
    }

    /// Why `name` is no template of the set that compiles, if it is none.
    pub fn compiles(&self, name: &str) -> Result<(), TemplateError> {
        self.compiled(name).map(|_| ())
    }

    /// Renders template `name` with `context`.
    pub fn render(&self, name: &str, context: &Context) -> Result<Rendered, TemplateError> {
        let data = handlebars::Context::wraps(context).map_err(|e| TemplateError {
            name: name.to_string(),
            origin: name.to_string(),
            line: 0,
            column: 0,
            message: e.to_string(),
        })?;
        self.render_data(name, &data)
    }

    fn render_data(
        &self,
        name: &str,
        data: &handlebars::Context,
    ) -> Result<Rendered, TemplateError> {
        let compiled = self.compiled(name)?;
        let registries = self.compiled.borrow();
        let origin = self.entry(name).map(Entry::label).unwrap_or_default();
        let locate = |e: handlebars::RenderError, lines: usize, columns: usize| {
            let line = e.line_no.unwrap_or(0);
            let column = e.column_no.unwrap_or(0);
            TemplateError {
                name: name.to_string(),
                origin: origin.clone(),
                line: if line > 0 { line + lines } else { 0 },
                column: if line == 1 { column + columns } else { column },
                message: describe(&e),
            }
        };
        let subject = if compiled.has_subject {
            let text = capped(&registries.subjects, name, data).map_err(|e| locate(e, 0, 8))?;
            Some(one_line(&text))
        } else {
            None
        };
        let body = capped(&registries.bodies, name, data)
            .map_err(|e| locate(e, compiled.body_offset, 0))?;
        Ok(Rendered { subject, body })
    }

    /// Renders every template that compiled with each of [`context::samples`]:
    /// the errors strict mode finds, each once.
    pub fn check_samples(&self, config: &Config) -> Vec<TemplateError> {
        let mut errors: Vec<TemplateError> = Vec::new();
        for sample in context::samples(config) {
            for e in self.check(&sample) {
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
        errors
    }

    /// Renders every template that compiled with `context` (a sample, see
    /// [`context::sample`]): the errors strict mode finds.
    pub fn check(&self, context: &Context) -> Vec<TemplateError> {
        let data = match handlebars::Context::wraps(context) {
            Ok(data) => data,
            Err(e) => panic!("a context always serialises: {e}"),
        };
        self.entries
            .iter()
            .filter(|e| self.has(&e.name))
            .filter_map(|e| self.render_data(&e.name, &data).err())
            .collect()
    }
}

/// A render error in words: a missing variable named, the size cap explained.
fn describe(e: &handlebars::RenderError) -> String {
    match e.reason() {
        RenderErrorReason::MissingVariable(Some(path)) => {
            format!("unknown variable '{path}' (strict mode; README, Templates, lists them)")
        }
        RenderErrorReason::IOError(io) if io.kind() == std::io::ErrorKind::FileTooLarge => {
            format!(
                "the rendered text is larger than {} KiB: refused",
                MAX_OUTPUT / 1024
            )
        }
        reason => reason.to_string(),
    }
}

/// A writer that refuses to hold more than [`MAX_OUTPUT`] bytes.
struct Capped(Vec<u8>);

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "rendered text too large",
            ));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capped(
    hb: &Handlebars<'static>,
    name: &str,
    data: &handlebars::Context,
) -> Result<String, handlebars::RenderError> {
    let mut out = Capped(Vec::new());
    hb.render_with_context_to_write(name, data, &mut out)?;
    Ok(String::from_utf8_lossy(&out.0).into_owned())
}

/// Text on one line: controls (CR and LF among them) as spaces, white space runs
/// folded, trimmed.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
