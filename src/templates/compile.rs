//! One template's text into handlebars templates: the optional `Subject:` line,
//! the body, and the checks handlebars does not make (no partials, no decorators).

use handlebars::template::{Template, TemplateElement};

/// The parts of a template's text, compiled.
pub struct Compiled {
    /// The text after `Subject:` on the first line, when there is one.
    pub subject: Option<Template>,
    pub body: Template,
    /// Lines before the body's first line in the file (0, or 2 after a subject).
    pub body_offset: usize,
}

/// Where in the file, and what.
#[derive(Debug)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

const SUBJECT: &str = "subject:";

/// Compiles `source`: a first line `Subject: ...` followed by a blank line gives
/// the subject, the rest the body.
pub fn compile(source: &str) -> Result<Compiled, Problem> {
    let first_end = source.find('\n').unwrap_or(source.len());
    let first = source[..first_end].trim_end_matches('\r');
    let is_subject = first
        .get(..SUBJECT.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(SUBJECT));
    if !is_subject {
        return Ok(Compiled {
            subject: None,
            body: template(source, 0, 0)?,
            body_offset: 0,
        });
    }
    let subject = template(&first[SUBJECT.len()..], 0, SUBJECT.len())?;
    let rest = source.get(first_end + 1..).unwrap_or("");
    let second_end = rest.find('\n').unwrap_or(rest.len());
    if !rest[..second_end].trim().is_empty() {
        return Err(Problem {
            line: 2,
            column: 1,
            message: "the Subject: line must be followed by a blank line, then the body".into(),
        });
    }
    let body = rest.get(second_end + 1..).unwrap_or("");
    Ok(Compiled {
        subject: Some(subject),
        body: template(body, 2, 0)?,
        body_offset: 2,
    })
}

/// Compiles one piece, its errors moved `lines` down and `columns` right (on its
/// first line).
fn template(text: &str, lines: usize, columns: usize) -> Result<Template, Problem> {
    let place = |line: usize, column: usize| {
        let column = if line <= 1 { column + columns } else { column };
        (line + lines, column)
    };
    let compiled = Template::compile(text).map_err(|e| {
        let (line, column) = e.pos().map(|(l, c)| place(l, c)).unwrap_or((0, 0));
        Problem {
            line,
            column,
            message: e.reason().to_string(),
        }
    })?;
    if let Some((line, column, what)) = refused(&compiled) {
        let (line, column) = place(line, column);
        return Err(Problem {
            line,
            column,
            message: format!(
                "{what} are not supported in postdesk templates (each template stands alone)"
            ),
        });
    }
    Ok(compiled)
}

/// The first partial (`{{> x}}`) or decorator (`{{* x}}`, `{{#*inline}}`) in a
/// template, with its line and column: partials could include each other without
/// end, and a partial's name can come from a value.
fn refused(t: &Template) -> Option<(usize, usize, &'static str)> {
    for (i, element) in t.elements.iter().enumerate() {
        let at = t.mapping.get(i).map(|m| (m.0, m.1)).unwrap_or((0, 0));
        let what = match element {
            TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => {
                Some("partials")
            }
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => {
                Some("decorators")
            }
            TemplateElement::HelperBlock(h)
            | TemplateElement::Expression(h)
            | TemplateElement::HtmlExpression(h) => {
                for inner in [&h.template, &h.inverse].into_iter().flatten() {
                    if let Some(found) = refused(inner) {
                        return Some(found);
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(what) = what {
            return Some((at.0, at.1, what));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_line_and_a_blank_line_start_the_body_on_line_three() {
        let c = compile("Subject: Re: {{x}}\n\nHello\n").unwrap();
        assert!(c.subject.is_some());
        assert_eq!(c.body_offset, 2);
        let c = compile("Hello {{x}}\n").unwrap();
        assert!(c.subject.is_none() && c.body_offset == 0);
    }

    #[test]
    fn a_subject_without_a_blank_line_is_refused_at_line_two() {
        let e = compile("Subject: x\nHello\n").err().unwrap();
        assert_eq!((e.line, e.column), (2, 1));
    }

    #[test]
    fn syntax_errors_are_placed_in_the_file() {
        let e = compile("Subject: x\n\nline one\n{{#if a}}\n")
            .err()
            .unwrap();
        assert!(e.line >= 4, "{e:?}");
        let e = compile("Subject: {{#if}}\n\n").err().unwrap();
        assert_eq!(e.line, 1, "{e:?}");
    }

    #[test]
    fn partials_and_decorators_are_refused_with_their_line() {
        for (text, line) in [
            ("a\n{{> other}}\n", 2),
            (
                "a\nb\n{{#if x}}\n{{> (lookup ticket \"subject\")}}{{/if}}\n",
                4,
            ),
            ("{{#*inline \"x\"}}y{{/inline}}\n", 1),
            ("Subject: s\n\n{{#> layout}}x{{/layout}}\n", 3),
        ] {
            let e = compile(text).err().unwrap_or_else(|| panic!("{text}"));
            assert_eq!(e.line, line, "{text}: {e:?}");
            assert!(e.message.contains("not supported"), "{e:?}");
        }
    }
}
