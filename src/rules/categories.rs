//! The actions whose check depends on the ticket's service, checked as the shell
//! checks them: a category a rule sets must belong to the service (as `ticket
//! edit` requires), and whoever it assigns must be able to hold a ticket of the
//! service (as `ticket assign` without `--force` requires: an agent or manager of
//! it, its default-assignee group, or `none`). Checked when loading, against every
//! service the ticket can be in when the action runs: the one an earlier `set:
//! service` of the rule gave it, else those its conditions allow, else any service.

use super::format::{Action, Condition, Field, Match, Op, Rule};

/// For each `set: category` of `rule` that some service the ticket can be in at
/// that point does not have, and each `assign` to someone who may not hold a
/// ticket of one of them: the action's index in `rule.actions` and why.
/// `services` are the configured services with their categories, `holders` with
/// who may hold their tickets (a service not listed there: anyone).
pub fn errors(
    rule: &Rule,
    services: &[(String, Vec<String>)],
    holders: &[(String, Vec<String>)],
) -> Vec<(usize, String)> {
    let all: Vec<&str> = services.iter().map(|(s, _)| s.as_str()).collect();
    let mut possible: Vec<&str> = match allowed(&rule.conditions, rule.match_) {
        Some(named) => all
            .iter()
            .copied()
            .filter(|s| named.contains(&s.to_lowercase()))
            .collect(),
        None => all.clone(),
    };
    let categories = |service: &str| {
        services
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, c)| c.as_slice())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    for (i, action) in rule.actions.iter().enumerate() {
        match action {
            Action::SetService(s) => possible = vec![s.as_str()],
            Action::SetCategory(c) => {
                let lacking: Vec<&str> = possible
                    .iter()
                    .copied()
                    .filter(|s| !categories(s).contains(c))
                    .collect();
                match (possible.as_slice(), lacking.is_empty()) {
                    (_, true) => {}
                    ([only], false) => {
                        errors.push((i, no_such_category(only, c, categories(only))))
                    }
                    _ => {
                        let owners: Vec<&str> = all
                            .iter()
                            .copied()
                            .filter(|s| categories(s).contains(c))
                            .collect();
                        let condition = match owners.as_slice() {
                            [one] => one.to_string(),
                            many => format!("[{}]", many.join(", ")),
                        };
                        errors.push((i, format!(
                            "set: category '{c}' belongs to {} only, but the ticket can be in {} here (set the service in the same rule, or add the condition `service: {condition}`)",
                            owners.join(", "),
                            lacking.join(", "),
                        )));
                    }
                }
            }
            Action::Assign(who) if who != "none" => {
                let refused: Vec<&str> = possible
                    .iter()
                    .copied()
                    .filter(|s| {
                        holders
                            .iter()
                            .find(|(h, _)| h == s)
                            .is_some_and(|(_, may)| !may.contains(who))
                    })
                    .collect();
                let fix = || {
                    let may: Vec<&str> = all
                        .iter()
                        .copied()
                        .filter(|s| !refused.contains(s))
                        .collect();
                    match may.as_slice() {
                        [] => "assign someone who may hold them".to_string(),
                        [one] => format!("set the service in the same rule, or add the condition `service: {one}`"),
                        many => format!("set the service in the same rule, or add the condition `service: [{}]`", many.join(", ")),
                    }
                };
                match refused.as_slice() {
                    [] => {}
                    [only] if possible.len() == 1 => errors.push((
                        i,
                        format!(
                            "assign: {who} is not an agent or a manager of service '{only}' (the shell's `ticket assign` would need --force; rules have none)"
                        ),
                    )),
                    _ => errors.push((
                        i,
                        format!(
                            "assign: {who} is not an agent or a manager of service {}, but the ticket can be in it here ({})",
                            refused.join(", "),
                            fix()
                        ),
                    )),
                }
            }
            _ => {}
        }
    }
    errors
}

/// `ticket edit`'s wording.
fn no_such_category(service: &str, category: &str, has: &[String]) -> String {
    let has = if has.is_empty() {
        "none".to_string()
    } else {
        has.join(", ")
    };
    format!("set: service '{service}' has no category '{category}' (it has: {has})")
}

/// The services (lowercased) that conditions combined by `how` let through; None
/// when they say nothing about the service.
fn allowed(conditions: &[Condition], how: Match) -> Option<Vec<String>> {
    let each = conditions.iter().map(services_of);
    if how == Match::Any && conditions.len() > 1 {
        // Any one may be the one that matched: only a bound every one sets counts.
        return each.collect::<Option<Vec<_>>>().map(|sets| sets.concat());
    }
    each.flatten()
        .reduce(|a, b| a.into_iter().filter(|s| b.contains(s)).collect())
}

/// The services one condition lets through, if it names them.
fn services_of(condition: &Condition) -> Option<Vec<String>> {
    match condition {
        Condition::Test {
            field: Field::Service,
            test,
        } => match &test.op {
            Op::Equals(s) => Some(vec![s.to_lowercase()]),
            Op::In(list) => Some(list.iter().map(|s| s.to_lowercase()).collect()),
            _ => None,
        },
        Condition::All(list) => allowed(list, Match::All),
        Condition::Any(list) => allowed(list, Match::Any),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::format::{with_names, Names};

    fn check(rule: &str) -> Vec<String> {
        let services: Vec<(String, Vec<String>)> = [("it", "general"), ("hr", "general")]
            .iter()
            .map(|(s, c)| (s.to_string(), vec![c.to_string()]))
            .chain([("facilities".to_string(), vec![])])
            .collect();
        let names = Names {
            services: services.clone(),
            ..Names::default()
        };
        let rule: Rule = with_names(&names, || serde_yaml::from_str(rule)).unwrap();
        errors(&rule, &services, &[])
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    #[test]
    fn a_category_of_several_services_names_them_all() {
        assert_eq!(
            check("name: x\nactions: [{ set: { category: general } }]"),
            ["set: category 'general' belongs to it, hr only, but the ticket can be in facilities here (set the service in the same rule, or add the condition `service: [it, hr]`)"]
        );
    }

    #[test]
    fn groups_narrow_the_service_only_when_every_way_through_names_it() {
        let any = "name: x\nconditions: [{ any: [{ service: it }, { service: HR }] }]\nactions: [{ set: { category: general } }]";
        assert_eq!(check(any), Vec::<String>::new());
        let not = "name: x\nconditions: [{ not: { service: facilities } }]\nactions: [{ set: { category: general } }]";
        assert_eq!(check(not).len(), 1);
        let either = "name: x\nmatch: any\nconditions: [{ service: it }, { subject: x }]\nactions: [{ set: { category: general } }]";
        assert_eq!(check(either).len(), 1);
    }
}
