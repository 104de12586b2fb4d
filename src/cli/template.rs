//! `postdesk template`: list, show, render and check the mail templates.

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{self, Format};
use super::plural::plural;
use super::terminal;
use super::Global;
use crate::desk::{mail_context, Desk};
use crate::templates::{Entry, Origin, Templates};

/// The mail templates (`man postdesk-template`, README "Templates").
///
/// Built-in templates are compiled in; a `NAME.hbs` in the templates directory
/// (`settings.templates_dir`, default `templates/` beside the config) replaces the
/// built-in of that name or adds one, and `replies/NAME.hbs` there is the saved
/// reply `replies/NAME`. Handlebars, plain text, strict: a misspelt variable is an
/// error. A first line `Subject: TEXT` and a blank line give the subject.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// List the templates: name, where from (built-in or a file), overrides a built-in
    List,
    /// Print a template's text as it will be used
    Show { name: String },
    /// Render a template for a ticket: exactly the subject and body it would send
    Render(RenderArgs),
    /// Compile every template and render it with a sample ticket; every error, exit 1 if any
    Check,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The template (`template list`), e.g. acknowledge or replies/printer
    name: String,
    /// The ticket it is about
    #[arg(long, value_parser = super::ticket::parse_number)]
    ticket: u64,
    /// The recipient's address [default: the ticket's requester]
    #[arg(long, value_name = "ADDRESS")]
    to: Option<String>,
    /// The text of the reply, comment or invitation (`{{message}}`)
    #[arg(long, short = 'm', value_name = "TEXT", default_value = "")]
    message: String,
}

pub fn run(cmd: TemplateCommand, global: &Global) -> Result<()> {
    let desk = global.desk()?;
    match cmd {
        TemplateCommand::List => list(&desk, global.format),
        TemplateCommand::Show { name } => show(&desk, &name, global.format),
        TemplateCommand::Render(args) => render(&desk, args, global.format),
        TemplateCommand::Check => check(&desk, global.format),
    }
}

#[derive(Serialize)]
struct Row {
    name: String,
    /// `built-in`, or the file's path.
    from: String,
    overrides_builtin: bool,
}

fn row(e: &Entry) -> Row {
    Row {
        name: e.name.clone(),
        from: match &e.origin {
            Origin::Builtin => "built-in".to_string(),
            Origin::File(path) => path.display().to_string(),
        },
        overrides_builtin: e.overrides_builtin,
    }
}

fn list(desk: &Desk, format: Format) -> Result<()> {
    let (set, _) = Templates::read(&desk.config);
    let rows: Vec<Row> = set.entries().iter().map(row).collect();
    match format {
        Format::Json => output::json(&rows),
        Format::Csv => output::csv(
            &["name", "from", "overrides_builtin"],
            rows.iter().map(|r| {
                vec![
                    r.name.clone(),
                    r.from.clone(),
                    r.overrides_builtin.to_string(),
                ]
            }),
        ),
        Format::Table => {
            let mut table = output::table(&["name", "from", "overrides built-in"]);
            for r in &rows {
                table.add_row([
                    r.name.clone(),
                    r.from.clone(),
                    if r.overrides_builtin { "yes" } else { "" }.to_string(),
                ]);
            }
            output::print_table(&table)
        }
    }
}

fn find<'a>(set: &'a Templates, name: &str) -> Result<&'a Entry> {
    set.entry(name)
        .with_context(|| format!("no template named '{name}' (see `postdesk template list`)"))
}

fn show(desk: &Desk, name: &str, format: Format) -> Result<()> {
    let (set, errors) = Templates::read(&desk.config);
    let entry = find(&set, name)?;
    // A file that cannot be read has no text to show: say why.
    if let Some(e) = errors.iter().find(|e| e.name == name && e.line == 0) {
        return Err(anyhow::Error::new(e.clone()));
    }
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                row: Row,
                source: &'a str,
            }
            output::json(&Shown {
                row: row(entry),
                source: &entry.source,
            })
        }
        _ => {
            // The text alone, so that it can be copied into a file to override it.
            let text = entry.source.strip_suffix('\n').unwrap_or(&entry.source);
            output::line(text)
        }
    }
}

#[derive(Serialize)]
struct RenderedView {
    template: String,
    ticket: u64,
    to: String,
    /// None: the template has no `Subject:` line (the mail's subject is then the
    /// one the mail-out code gives it).
    subject: Option<String>,
    body: String,
}

fn render(desk: &Desk, args: RenderArgs, format: Format) -> Result<()> {
    let set = Templates::load(&desk.config).or_else(|errors| {
        // Other broken templates do not stop this one from rendering.
        let (set, _) = Templates::read(&desk.config);
        match errors.0.iter().find(|e| e.name == args.name) {
            Some(e) => Err(anyhow::Error::new(e.clone())),
            None => Ok(set),
        }
    })?;
    find(&set, &args.name)?;
    let context = mail_context::load(
        desk,
        args.ticket,
        args.to.as_deref(),
        desk.actor_name(),
        &args.message,
    )?;
    let rendered = set.render(&args.name, &context)?;
    let view = RenderedView {
        template: args.name,
        ticket: args.ticket,
        to: context.recipient.email.clone(),
        subject: rendered.subject,
        body: rendered.body,
    };
    match format {
        Format::Json => output::json(&view),
        Format::Csv => output::csv(
            &["template", "ticket", "to", "subject", "body"],
            [vec![
                view.template.clone(),
                view.ticket.to_string(),
                view.to.clone(),
                view.subject.clone().unwrap_or_default(),
                view.body.clone(),
            ]],
        ),
        Format::Table => {
            let mut head = String::new();
            if !view.to.is_empty() {
                head.push_str(&format!("To: {}\n", terminal::inline(&view.to)));
            }
            match &view.subject {
                Some(s) => head.push_str(&format!("Subject: {}\n", terminal::inline(s))),
                None => output::aside(
                    "(no Subject: line in the template: the mail's subject is the ticket's)",
                ),
            }
            let body = view.body.strip_suffix('\n').unwrap_or(&view.body);
            output::line(format!("{head}\n{body}"))
        }
    }
}

fn check(desk: &Desk, format: Format) -> Result<()> {
    let (set, mut errors) = Templates::read(&desk.config);
    errors.extend(set.check_samples(&desk.config));
    if errors.is_empty() {
        return output::done(
            format!(
                "{} in {}: OK",
                plural(set.entries().len(), "template", "templates"),
                desk.config.templates_dir().display()
            ),
            format,
        );
    }
    errors.sort_by(|a, b| (&a.name, a.line).cmp(&(&b.name, b.line)));
    for e in &errors {
        eprintln!("{}", terminal::block(&e.to_string()));
    }
    bail!(
        "{} in the templates",
        plural(errors.len(), "error", "errors")
    )
}
