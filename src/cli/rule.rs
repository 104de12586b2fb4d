//! `postdesk rule`: list, show, check, test, enable and disable the YAML rules.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::output::{self, Format};
use super::plural::plural;
use super::terminal;
use super::Global;
use crate::desk::ingest::Pipeline;
use crate::desk::{recipients, Desk};
use crate::mail::parse::{parse, strip_envelope};
use crate::rules::eval::{run as run_rules, Event, Outbound};
use crate::rules::format::{Action, Condition, Rule};
use crate::rules::load::{names, RuleSet};

/// The rule format, for `postdesk rule --help` and its man page.
pub const LONG_HELP: &str = "List, check and test the YAML rules.

Rule files are the *.yaml files of the rules directory (settings.rules_dir, default rules/ beside the config), run in file-name order, then in order within a file. Each file is a list of rules:

  - name: invoices go to finance     (unique)
    description: ...                 (optional)
    enabled: true                    (default true)
    when: [created]                  (created, reply, updated, assigned, commented,
                                      closed, reopened, transferred or any; default any)
    match: all                       (all or any; default all)
    conditions:
      - from-domain: example.com
      - subject: { contains: invoice }
      - not: { header: { name: X-Spam-Flag, exists: true } }
    actions:
      - set: { service: billing, priority: high }
      - assign: \"@finance\"
      - tag: [billing]
    stop: true                       (default false)

Conditions look at from, from-name, from-domain, to, cc, recipient, subject, body, header (with name), has-attachment, size, status, priority, assignee, service, category, tags, field (a custom field, with name), author (requester, follower, agent or stranger: who wrote the mail). Operators: equals, contains, starts-with, ends-with, regex, in, exists, greater-than, less-than; text tests ignore case unless case-sensitive: true. A scalar means equals, a list means in. Groups: not, all, any, nested.

Actions: set (status, priority, service, category, fields), assign (login, @group, none), tag, untag, follow, notify (assignee, managers, requester, followers, a login, @group or an address; optional template), reply (template), ignore, stop. Every change is recorded in the ticket's activity log under the rule's name.

Loading is strict: an unknown key, a wrong type, a bad regex, an unknown user, group, service, category, field or template, or a duplicate name is an error naming file, line, column and rule. The full reference is docs/rules.md.";

/// List, check and test the YAML rules (`man postdesk-rule`, docs/rules.md).
///
/// Rule files are the `*.yaml` files of the rules directory (`settings.rules_dir`,
/// default `rules/` beside the config), applied in file-name order, then in order
/// within a file.
#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// List the rules in the order they run
    List,
    /// Print one rule as written in its file
    Show { name: String },
    /// Check rule files (default: all of them); report every error, exit 1 if any
    Check { files: Vec<PathBuf> },
    /// Run the rules on a message or ticket event without writing anything
    Test(TestArgs),
    /// Enable a rule (edits its file in place)
    Enable { name: String },
    /// Disable a rule (edits its file in place)
    Disable { name: String },
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// A message file (RFC 5322, an mbox `From ` line is fine); `-` for stdin
    message: Option<PathBuf>,
    /// Run against this ticket: with a message as a reply, without as an update
    #[arg(long, value_parser = super::ticket::parse_number)]
    ticket: Option<u64>,
    /// Override the event: any `when:` event of the rules
    #[arg(long, value_enum)]
    event: Option<EventArg>,
    /// Show every condition's result and the value it looked at
    #[arg(long)]
    trace: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EventArg {
    Created,
    Reply,
    Updated,
    Assigned,
    Commented,
    Closed,
    Reopened,
    Transferred,
}

impl From<EventArg> for Event {
    fn from(arg: EventArg) -> Event {
        match arg {
            EventArg::Created => Event::Created,
            EventArg::Reply => Event::Reply,
            EventArg::Updated => Event::Updated,
            EventArg::Assigned => Event::Assigned,
            EventArg::Commented => Event::Commented,
            EventArg::Closed => Event::Closed,
            EventArg::Reopened => Event::Reopened,
            EventArg::Transferred => Event::Transferred,
        }
    }
}

pub fn run(cmd: RuleCommand, global: &Global) -> Result<()> {
    let desk = global.desk()?;
    match cmd {
        RuleCommand::List => list(&desk, global.format),
        RuleCommand::Show { name } => show(&desk, &name, global.format),
        RuleCommand::Check { files } => check(&desk, files, global.format),
        RuleCommand::Test(args) => test(&desk, args, global.format),
        RuleCommand::Enable { name } => toggle(&desk, &name, true, global.format),
        RuleCommand::Disable { name } => toggle(&desk, &name, false, global.format),
    }
}

#[derive(Serialize)]
struct RuleRow {
    order: usize,
    file: String,
    line: usize,
    name: String,
    enabled: bool,
    when: Vec<String>,
    summary: String,
}

fn summary(rule: &Rule) -> String {
    let conditions = match rule.conditions.len() {
        0 => "always".to_string(),
        1 => describe_condition(&rule.conditions[0]),
        n => format!(
            "{} of {n} conditions",
            if rule.match_ == crate::rules::format::Match::All {
                "all"
            } else {
                "any"
            }
        ),
    };
    let actions: Vec<String> = rule.actions.iter().map(Action::to_string).collect();
    let stop = if rule.stop { ", stop" } else { "" };
    format!("if {conditions}: {}{stop}", actions.join(", "))
}

fn n_conditions(n: usize) -> String {
    plural(n, "condition", "conditions")
}

fn describe_condition(c: &Condition) -> String {
    match c {
        Condition::Test { field, test } => format!("{} {}", field.label(), test.op.describe()),
        Condition::Not(inner) => format!("not ({})", describe_condition(inner)),
        Condition::All(list) => format!("all of {}", n_conditions(list.len())),
        Condition::Any(list) => format!("any of {}", n_conditions(list.len())),
    }
}

fn rows(rules: &RuleSet) -> Vec<RuleRow> {
    rules
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleRow {
            order: i + 1,
            file: r
                .file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            line: r.line,
            name: r.name.clone(),
            enabled: r.enabled,
            when: r.when.iter().map(|w| w.to_string()).collect(),
            summary: summary(r),
        })
        .collect()
}

fn list(desk: &Desk, format: Format) -> Result<()> {
    let rows = rows(desk.rules()?);
    match format {
        Format::Json => output::json(&rows),
        Format::Csv => output::csv(
            &[
                "order", "file", "line", "name", "enabled", "when", "summary",
            ],
            rows.iter().map(|r| {
                vec![
                    r.order.to_string(),
                    r.file.clone(),
                    r.line.to_string(),
                    r.name.clone(),
                    r.enabled.to_string(),
                    r.when.join(" "),
                    r.summary.clone(),
                ]
            }),
        ),
        Format::Table if rows.is_empty() => {
            output::line(format!("no rules in {}", desk.config.rules_dir().display()))
        }
        Format::Table => {
            let mut table = output::table(&["#", "file", "name", "enabled", "when", "summary"]);
            for r in &rows {
                table.add_row([
                    r.order.to_string(),
                    r.file.clone(),
                    r.name.clone(),
                    if r.enabled { "yes" } else { "no" }.to_string(),
                    r.when.join(" "),
                    r.summary.clone(),
                ]);
            }
            output::print_table(&table)
        }
    }
}

fn find<'a>(rules: &'a RuleSet, name: &str) -> Result<&'a Rule> {
    rules
        .get(name)
        .with_context(|| format!("no rule named '{name}' (see `postdesk rule list`)"))
}

fn show(desk: &Desk, name: &str, format: Format) -> Result<()> {
    let rules = desk.rules()?;
    let rule = find(rules, name)?;
    if format == Format::Json {
        let row = rows(rules)
            .into_iter()
            .find(|r| r.name == name)
            .expect("listed");
        return output::json(&row);
    }
    let text = std::fs::read_to_string(&rule.file)?;
    let lines: Vec<&str> = text.lines().collect();
    let body = lines[crate::rules::load::rule_lines(&lines, rule.line)].join("\n");
    output::line(format!(
        "# {}:{}\n{}",
        rule.file.display(),
        rule.line,
        body.trim_end()
    ))
}

fn check(desk: &Desk, files: Vec<PathBuf>, format: Format) -> Result<()> {
    let files = if files.is_empty() {
        RuleSet::files(&desk.config)
    } else {
        files
    };
    let loaded = RuleSet::load_files(&files, &names(&desk.config)).and_then(|set| {
        // Their regexes must compile, and the templates they name compile and render.
        let mut errors = set.regex_errors();
        errors.extend(set.template_errors(&desk.config));
        match errors {
            errors if errors.is_empty() => Ok(set),
            errors => Err(crate::rules::LoadErrors(errors)),
        }
    });
    match loaded {
        Ok(set) => output::done(
            format!(
                "{} in {}: OK",
                plural(set.rules.len(), "rule", "rules"),
                plural(files.len(), "file", "files")
            ),
            format,
        ),
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{}", terminal::block(&e.to_string()));
            }
            bail!("{} in the rules", plural(errors.0.len(), "error", "errors"))
        }
    }
}

fn toggle(desk: &Desk, name: &str, on: bool, format: Format) -> Result<()> {
    let rule = find(desk.rules()?, name)?;
    let changed = crate::rules::edit::set_enabled(rule, on)?;
    // The edited file must still load.
    RuleSet::load(&desk.config)
        .map_err(|e| anyhow::anyhow!("{e}\n(after editing {})", rule.file.display()))?;
    let state = if on { "enabled" } else { "disabled" };
    if changed {
        output::done(
            format!("rule '{name}' {state} in {}", rule.file.display()),
            format,
        )
    } else {
        output::done(format!("rule '{name}' was already {state}"), format)
    }
}

#[derive(Serialize)]
struct TestReport {
    event: String,
    matched: Vec<String>,
    ignored_by: Option<String>,
    ticket: serde_json::Value,
    mails: Vec<serde_json::Value>,
    /// Mails not sent, each with its `reason` (`nobody`, `list-mail`) and `why`.
    skipped: Vec<serde_json::Value>,
    trace: Vec<serde_json::Value>,
}

fn mail_json(m: &Outbound) -> serde_json::Value {
    serde_json::json!({"rule": m.rule, "kind": m.kind, "to": m.to, "template": m.template})
}

fn test(desk: &Desk, args: TestArgs, format: Format) -> Result<()> {
    let mail = match &args.message {
        Some(path) => {
            let raw = if path.as_os_str() == "-" {
                let mut raw = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut raw)?;
                raw
            } else {
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
            };
            Some(
                parse(strip_envelope(&raw))
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            )
        }
        None => None,
    };
    let (mut ticket, default_event) = match (args.ticket, &mail) {
        (Some(n), Some(_)) => (crate::desk::tickets::show(desk, n, false)?.0, Event::Reply),
        (Some(n), None) => (
            crate::desk::tickets::show(desk, n, false)?.0,
            Event::Updated,
        ),
        (None, Some(m)) => (
            Pipeline::new(desk, true)?.draft_ticket(m, None, crate::desk::now())?,
            Event::Created,
        ),
        (None, None) => bail!("give a message file, --ticket N, or both"),
    };
    let event = args.event.map_or(default_event, Event::from);
    let decision = run_rules(
        &desk.rules()?.rules,
        &[event],
        mail.as_ref(),
        // Taken as unauthenticated: `author` is never `agent` here.
        false,
        &mut ticket,
        &|to, t| recipients::addresses(&desk.config, to, t),
        args.trace,
    );
    let report = TestReport {
        event: format!("{event:?}").to_lowercase(),
        matched: decision.applied.iter().map(|(name, _)| name.clone()).collect(),
        ignored_by: decision.ignored_by.clone(),
        ticket: serde_json::to_value(super::ticket::view::TicketJson::new(&ticket, None))?,
        mails: decision.mails.iter().map(mail_json).collect(),
        skipped: decision
            .skipped
            .iter()
            .map(|s| {
                let mut m = mail_json(&s.mail);
                m["reason"] = s.why.key().into();
                m["why"] = s.why.explain().into();
                m
            })
            .collect(),
        trace: decision
            .trace
            .iter()
            .map(|t| serde_json::json!({"rule": t.rule, "depth": t.depth, "text": t.text, "matched": t.matched}))
            .collect(),
    };
    if format == Format::Json {
        return output::json(&report);
    }
    let mut text = String::new();
    if args.trace {
        for t in &decision.trace {
            let mark = if t.matched { "yes" } else { "no " };
            if t.depth == 0 {
                text.push_str(&format!("{}\n", t.text));
            } else {
                text.push_str(&format!("{}{mark}  {}\n", "  ".repeat(t.depth), t.text));
            }
        }
        text.push('\n');
    }
    if report.matched.is_empty() {
        text.push_str("no rule matched\n");
    }
    for (name, changes) in &decision.applied {
        text.push_str(&format!("rule '{name}' matched\n"));
        for c in changes {
            text.push_str(&format!("    {}\n", c.describe()));
        }
    }
    if let Some(rule) = &decision.ignored_by {
        text.push_str(&format!(
            "the mail would be ignored (rule '{rule}'): no ticket\n"
        ));
    }
    text.push_str(&format!(
        "\nresult: status {}, priority {}, assignee {}, service {}, category {}, tags [{}]\n",
        ticket.status,
        ticket.priority,
        ticket.assignee,
        ticket.service.as_deref().unwrap_or("-"),
        ticket.category.as_deref().unwrap_or("-"),
        ticket.tags.iter().cloned().collect::<Vec<_>>().join(", ")
    ));
    for m in &decision.mails {
        text.push_str(&format!(
            "would send: {} to {} (template {}, rule '{}')\n",
            m.kind, m.to, m.template, m.rule
        ));
    }
    for s in &decision.skipped {
        let m = &s.mail;
        text.push_str(&format!(
            "would not send: {} to {}, {} (rule '{}')\n",
            m.kind,
            m.to,
            s.why.short(),
            m.rule
        ));
    }
    output::line(text.trim_end())
}
