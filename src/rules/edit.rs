//! `rule enable/disable`: change one rule's `enabled:` in its file, leaving the rest of
//! the file (comments, formatting, other rules) as it was.

use anyhow::{bail, Context, Result};

use super::format::Rule;

/// Rewrites the rule's file with `enabled: <on>`; returns false if it already was.
pub fn set_enabled(rule: &Rule, on: bool) -> Result<bool> {
    if rule.enabled == on {
        return Ok(false);
    }
    let text = std::fs::read_to_string(&rule.file)
        .with_context(|| format!("cannot read {}", rule.file.display()))?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let range = super::load::rule_lines(&lines, rule.line);
    let (start, end) = (range.start, range.end);
    if start >= lines.len() {
        bail!(
            "rule '{}' is no longer at {}:{}",
            rule.name,
            rule.file.display(),
            rule.line
        );
    }
    // The column of the rule's keys: after "- " on its first line.
    let indent = 2;
    let key_line = (start..end).find(|&i| {
        let l = &lines[i];
        let body = if i == start {
            l.get(2..).unwrap_or("")
        } else {
            l.get(indent..).unwrap_or("")
        };
        (i == start || l.starts_with(&" ".repeat(indent))) && body.starts_with("enabled:")
    });
    let value = if on { "true" } else { "false" };
    match key_line {
        Some(i) => {
            // Replace only the value: spacing and a trailing comment stay as written.
            let line = &lines[i];
            let key_end = line.find("enabled:").expect("found above") + "enabled:".len();
            let rest = &line[key_end..];
            let value_start = key_end + (rest.len() - rest.trim_start().len());
            let value_end = line[value_start..]
                .find(char::is_whitespace)
                .map(|n| value_start + n)
                .unwrap_or(line.len());
            lines[i] = format!("{}{value}{}", &line[..value_start], &line[value_end..]);
        }
        None => {
            // After the `name:` line, wherever it is.
            let after = (start..end)
                .find(|&i| {
                    lines[i]
                        .trim_start_matches("- ")
                        .trim_start()
                        .starts_with("name:")
                })
                .unwrap_or(start);
            lines.insert(after + 1, format!("  enabled: {value}"));
        }
    }
    let mut new_text = lines.join("\n");
    if text.ends_with('\n') {
        new_text.push('\n');
    }
    let tmp = rule.file.with_extension("yaml.tmp");
    std::fs::write(&tmp, new_text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &rule.file)
        .with_context(|| format!("cannot replace {}", rule.file.display()))?;
    Ok(true)
}
