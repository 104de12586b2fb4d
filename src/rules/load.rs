//! Loading rule files: `*.yaml` in the rules directory, in file-name order.
//!
//! Each top-level list item is read on its own, so one broken rule does not hide
//! the errors of the others, and every error names file, line, column and rule.

use std::fmt;
use std::path::{Path, PathBuf};

use super::format::{with_names, Names, Rule};
use super::{categories, pieces};
use crate::config::Config;
use crate::yaml_guard::Budget;

/// All rules, in the order they run.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

/// A problem in a rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub rule: Option<String>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if self.column > 0 {
            write!(f, ":{}", self.column)?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ": rule '{rule}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every error of a failed load, one per line.
#[derive(Debug)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        write!(f, "broken rules:\n{}", lines.join("\n"))
    }
}

impl std::error::Error for LoadErrors {}

/// What rule checks can refer to, from the config.
pub fn names(config: &Config) -> Names {
    let templates = crate::templates::names(config);
    Names {
        users: config.users.iter().map(|u| u.login.clone()).collect(),
        groups: config.groups.iter().map(|g| g.name.clone()).collect(),
        services: config
            .services
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    s.categories.iter().map(|c| c.name.clone()).collect(),
                )
            })
            .collect(),
        holders: config
            .services
            .iter()
            .map(|s| {
                let mut may: Vec<String> = s.managers.clone();
                may.extend(
                    crate::desk::roles::agents(config, s)
                        .iter()
                        .map(|a| a.to_string()),
                );
                may.extend(
                    s.default_assignee
                        .iter()
                        .filter(|d| d.starts_with('@'))
                        .cloned(),
                );
                (s.name.clone(), may)
            })
            .collect(),
        fields: config.fields.iter().map(|f| f.name.clone()).collect(),
        templates,
    }
}

impl RuleSet {
    /// The rule files of the config's rules directory, in file-name order.
    pub fn files(config: &Config) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(config.rules_dir())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Loads the config's rules; a missing directory means no rules.
    pub fn load(config: &Config) -> Result<RuleSet, LoadErrors> {
        RuleSet::load_files(&RuleSet::files(config), &names(config))
    }

    /// Loads the given files, collecting every error.
    pub fn load_files(files: &[PathBuf], names: &Names) -> Result<RuleSet, LoadErrors> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut errors = Vec::new();
        let mut seen: Vec<(String, PathBuf, usize)> = Vec::new();
        // One budget for every file: many small expansions add up too.
        let mut budget = Budget::default();
        for file in files {
            match std::fs::read_to_string(file) {
                Ok(text) => {
                    for (line, chunk) in chunks(&text) {
                        if let Some(name) = rule_name(&chunk) {
                            seen.push((name, file.clone(), line));
                        }
                    }
                    let (ok, bad) = parse_file(file, &text, names, &mut budget);
                    rules.extend(ok);
                    errors.extend(bad);
                }
                Err(e) => errors.push(LoadError {
                    file: file.clone(),
                    line: 0,
                    column: 0,
                    rule: None,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        // Names are compared from the text, so a rule that failed to load still counts.
        for (i, (name, file, line)) in seen.iter().enumerate() {
            if let Some((_, first_file, first_line)) = seen[..i].iter().find(|(n, _, _)| n == name)
            {
                errors.push(LoadError {
                    file: file.clone(),
                    line: *line,
                    column: 0,
                    rule: Some(name.clone()),
                    message: format!(
                        "duplicate rule name (first at {}:{first_line})",
                        first_file.display()
                    ),
                });
            }
        }
        if errors.is_empty() {
            Ok(RuleSet { rules })
        } else {
            Err(LoadErrors(errors))
        }
    }

    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// The templates the rules name (`notify`, `reply`) that do not compile or do
    /// not render the sample context (`crate::templates::Templates::check`), each
    /// at the rule that names it. Loading has checked that they exist.
    /// The rules' regexes that do not compile (loading checked their syntax; one
    /// can still be too large for the regex crate), each at its rule. Compiles
    /// them all, which evaluating the rules does only for those it meets.
    pub fn regex_errors(&self) -> Vec<LoadError> {
        use super::format::{Condition, Op};
        fn walk<'a>(c: &'a Condition, out: &mut Vec<&'a str>) {
            match c {
                Condition::Test { test, .. } => {
                    if let Op::Regex(re) = &test.op {
                        if let Err(e) = re.compiled() {
                            out.push(e);
                        }
                    }
                }
                Condition::Not(c) => walk(c, out),
                Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| walk(c, out)),
            }
        }
        let mut errors = Vec::new();
        for rule in &self.rules {
            let mut failed = Vec::new();
            rule.conditions.iter().for_each(|c| walk(c, &mut failed));
            errors.extend(failed.into_iter().map(|message| LoadError {
                file: rule.file.clone(),
                line: rule.line,
                column: 0,
                rule: Some(rule.name.clone()),
                message: message.to_string(),
            }));
        }
        errors
    }

    pub fn template_errors(&self, config: &Config) -> Vec<LoadError> {
        use super::format::Action;
        let (set, mut broken) = crate::templates::Templates::read(config);
        broken.extend(set.check_samples(config));
        let mut errors = Vec::new();
        for rule in &self.rules {
            let mut named: Vec<&str> = rule
                .actions
                .iter()
                .filter_map(|action| match action {
                    Action::Notify { template, .. } | Action::Reply { template } => {
                        Some(template.as_str())
                    }
                    _ => None,
                })
                .collect();
            named.sort_unstable();
            named.dedup();
            for template in named {
                for e in broken.iter().filter(|e| e.name == template) {
                    errors.push(LoadError {
                        file: rule.file.clone(),
                        line: rule.line,
                        column: 0,
                        rule: Some(rule.name.clone()),
                        message: format!("template '{template}' is broken: {e}"),
                    });
                }
            }
        }
        errors
    }
}

/// The rules of one file, and the errors of those that failed.
fn parse_file(
    file: &Path,
    text: &str,
    names: &Names,
    budget: &mut Budget,
) -> (Vec<Rule>, Vec<LoadError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (start, chunk) in chunks(text) {
        let name = rule_name(&chunk);
        if let Err(refused) = budget.check(&chunk) {
            errors.push(LoadError {
                file: file.to_path_buf(),
                line: refused.line + start - 1,
                column: refused.column,
                rule: name,
                message: refused.message,
            });
            continue;
        }
        let parsed: Result<Vec<Rule>, serde_yaml::Error> =
            with_names(names, || serde_yaml::from_str(&chunk));
        match parsed {
            Ok(list) => {
                for mut rule in list {
                    rule.file = file.to_path_buf();
                    rule.line = start;
                    let wrong = categories::errors(&rule, &names.services, &names.holders);
                    if wrong.is_empty() {
                        rules.push(rule);
                        continue;
                    }
                    let at = action_places(&chunk, names);
                    errors.extend(wrong.into_iter().map(|(i, message)| {
                        let (line, column) = at.get(i).copied().unwrap_or((1, 0));
                        LoadError {
                            file: file.to_path_buf(),
                            line: line + start - 1,
                            column,
                            rule: name.clone(),
                            message,
                        }
                    }));
                }
            }
            Err(e) => {
                let whole = located(file, start, name.clone(), &e);
                let mut found = piece_errors(file, start, &chunk, names, &name, budget);
                // An error no single piece shows (a missing name, a key given twice).
                if !found.iter().any(|f| f.line == whole.line) {
                    found.push(whole);
                    found.sort_by_key(|f| (f.line, f.column));
                }
                errors.extend(found);
            }
        }
    }
    (rules, errors)
}

/// Where each of a rule's actions is written (1-based line within the rule, column),
/// in the order of `Rule::actions`: an item of `set:` gives as many actions as
/// fields it sets. Empty if the rule is not in block style.
fn action_places(chunk: &str, names: &Names) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = chunk.lines().collect();
    let mut places = Vec::new();
    for piece in pieces::pieces(&lines).unwrap_or_default() {
        if pieces::key(&lines, &piece) != "actions" {
            continue;
        }
        let text = pieces::text(&lines, &piece);
        let count = with_names(names, || serde_yaml::from_str::<Rule>(&text))
            .map_or(0, |r| r.actions.len());
        let place = (piece.lines.start + 1, pieces::column(&lines, &piece));
        places.extend(std::iter::repeat_n(place, count));
    }
    places
}

/// A serde_yaml error of a text whose first line is line `start` of `file`.
fn located(file: &Path, start: usize, rule: Option<String>, e: &serde_yaml::Error) -> LoadError {
    let (line, column) = e
        .location()
        .map(|l| (l.line() + start - 1, l.column()))
        .unwrap_or((start, 0));
    let mut message = e.to_string();
    if let Some(at) = message.find(" at line ") {
        message.truncate(at);
    }
    LoadError {
        file: file.to_path_buf(),
        line,
        column,
        rule,
        message: friendlier(&message),
    }
}

/// Every error of a rule that failed to load: each key, and each item of its lists,
/// parsed on its own (see [`pieces`](super::pieces)).
fn piece_errors(
    file: &Path,
    start: usize,
    chunk: &str,
    names: &Names,
    rule: &Option<String>,
    budget: &mut Budget,
) -> Vec<LoadError> {
    let lines: Vec<&str> = chunk.lines().collect();
    let Some(pieces) = pieces::pieces(&lines) else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    // Every piece is given a stand-in name, so none would say that it is missing.
    if !pieces.iter().any(|p| pieces::key(&lines, p) == "name") {
        errors.push(LoadError {
            file: file.to_path_buf(),
            line: start,
            column: 0,
            rule: None,
            message: "missing field `name`".into(),
        });
    }
    for piece in &pieces {
        let text = pieces::text(&lines, piece);
        // What aliases copy counts again, since each piece is built again.
        if budget.check(&text).is_err() {
            break;
        }
        match with_names(names, || serde_yaml::from_str::<Rule>(&text)) {
            // An alias to an anchor of another piece, cut apart: not an error.
            Err(e) if e.to_string().starts_with("unknown anchor") => {}
            Err(e) => errors.push(located(file, start, rule.clone(), &e)),
            Ok(_) => {}
        }
    }
    errors
}

/// serde's wording made to read like the rule format: the path inside the rule
/// (`conditions.subject`) without the list index, and one line.
fn friendlier(message: &str) -> String {
    let message = message.replace("`match_`", "`match`").replace("[0]", "");
    let message = match message.split_once(": ") {
        Some((path, rest)) if path.starts_with('.') => {
            let path = path.trim_matches('.');
            if path.is_empty() {
                rest.to_string()
            } else {
                format!("{path}: {rest}")
            }
        }
        _ => message,
    };
    // Regex errors draw a caret over several lines: keep the last, which says why.
    let mut lines = message.lines();
    let first = lines
        .next()
        .unwrap_or_default()
        .trim_end_matches(": regex parse error:");
    match lines.last() {
        Some(last) => format!("{first}: {}", last.trim_start_matches("error: ")),
        None => first.to_string(),
    }
}

/// Whether a line starts a rule: a top-level list item (`- ` in column 0).
fn starts_rule(line: &str) -> bool {
    line.starts_with("- ") || line == "-"
}

/// The 0-based line range of the rule whose first line is `line` (1-based):
/// up to the next rule or the end of the file.
pub fn rule_lines<S: AsRef<str>>(lines: &[S], line: usize) -> std::ops::Range<usize> {
    let start = line.saturating_sub(1).min(lines.len());
    let end = (start + 1..lines.len())
        .find(|&i| starts_rule(lines[i].as_ref()))
        .unwrap_or(lines.len());
    start..end
}

/// Splits a file at its top-level list items (`- ` in column 0): (first line, text).
/// Anything that is not such a list is returned whole, for serde to report.
fn chunks(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| starts_rule(l))
        .map(|(i, _)| i)
        .collect();
    let content_before = lines[..starts.first().copied().unwrap_or(lines.len())]
        .iter()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if starts.is_empty() || content_before {
        if lines
            .iter()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Vec::new();
        }
        return vec![(1, text.to_string())];
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| {
            let end = starts.get(n + 1).copied().unwrap_or(lines.len());
            (s + 1, lines[s..end].join("\n") + "\n")
        })
        .collect()
}

/// The `name:` of a rule chunk, found by text so errors can name the rule.
fn rule_name(chunk: &str) -> Option<String> {
    chunk.lines().find_map(|l| {
        let l = l.trim_start_matches("- ").trim();
        l.strip_prefix("name:")
            .map(|n| n.trim().trim_matches(['"', '\'']).to_string())
            .filter(|n| !n.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let names = Names {
            users: vec!["alice".into()],
            ..Names::default()
        };
        let (_, errors) = parse_file(Path::new("r.yaml"), text, &names, &mut Budget::default());
        errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn an_alias_cut_from_its_anchor_is_not_an_error() {
        let text = "- name: a\n  when: &w created\n  conditions:\n    - subjet: x\n  actions:\n    - tag: [*w]\n    - assign: bobby\n";
        let found = errors(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("r.yaml:4:7: rule 'a': conditions: unknown condition 'subjet'")
        );
        assert_eq!(
            found[1],
            "r.yaml:7:7: rule 'a': actions: assign: unknown user 'bobby'"
        );
    }

    #[test]
    fn a_missing_name_is_reported_with_the_other_errors() {
        let found = errors("- when: creatd\n  actions:\n    - assign: bobby\n");
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("r.yaml:1:"), "{found:?}");
        assert!(
            found.iter().any(|e| e.contains("missing field `name`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.starts_with("r.yaml:1:9: when: unknown event 'creatd'")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.starts_with("r.yaml:3:7: actions: assign: unknown user 'bobby'")),
            "{found:?}"
        );
    }
}
