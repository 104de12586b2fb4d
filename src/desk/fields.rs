//! Custom field values, checked and normalised against their declared type.

use anyhow::{bail, Result};

use crate::config::{Config, FieldDef, FieldKind};

/// The declaration of a custom field, or an error listing the declared ones.
pub fn definition<'a>(config: &'a Config, name: &str) -> Result<&'a FieldDef> {
    if let Some(def) = config.field(name) {
        return Ok(def);
    }
    let known: Vec<_> = config.fields.iter().map(|f| f.name.as_str()).collect();
    if known.is_empty() {
        bail!("unknown field '{name}': no custom fields are declared in the config");
    }
    bail!("unknown field '{name}' (declared: {})", known.join(", "))
}

/// Validates `value` for field `name` and returns its stored form.
pub fn normalise(config: &Config, name: &str, value: &str) -> Result<String> {
    let def = definition(config, name)?;
    let value = value.trim();
    match def.kind {
        FieldKind::Text => Ok(value.to_string()),
        FieldKind::Number => match value.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n.to_string()),
            _ => bail!("field '{name}' is a number; '{value}' is not"),
        },
        FieldKind::Date => match value.parse::<jiff::civil::Date>() {
            Ok(d) => Ok(d.to_string()),
            Err(_) => bail!("field '{name}' is a date (YYYY-MM-DD); '{value}' is not"),
        },
        FieldKind::Choice => match def.choices.iter().find(|c| c.eq_ignore_ascii_case(value)) {
            Some(choice) => Ok(choice.clone()),
            None => bail!(
                "field '{name}' must be one of {}; '{value}' is not",
                def.choices.join(", ")
            ),
        },
    }
}

/// Splits `key=value` from `--field`.
pub fn split_assignment(text: &str) -> Result<(&str, &str)> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v)),
        _ => bail!("--field takes KEY=VALUE, got '{text}'"),
    }
}
