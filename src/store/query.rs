//! Answering a ticket filter from the index trees, reading only the tickets that match.

use anyhow::{Context, Result};

use super::{corrupt_group, decode_ticket, keys, packed, Store};
use crate::model::Ticket;
use crate::model::TicketFilter;

/// Candidate counts under which groups are read one by one rather than all in a pass
/// over the tree.
const POINT_READS_BELOW: usize = 2048;

impl Store {
    /// Tickets matching `filter`, in number order.
    pub fn query(&self, filter: &TicketFilter) -> Result<Vec<Ticket>> {
        self.query_by_number(filter, false, None)
    }

    /// Tickets matching `filter` in number order, highest first if `descending`,
    /// at most `limit` of them: reading stops once that many have matched.
    pub fn query_by_number(
        &self,
        filter: &TicketFilter,
        descending: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Ticket>> {
        let limit = limit.unwrap_or(usize::MAX);
        let mut tickets = Vec::new();
        // Groups hold consecutive numbers and are keyed in number order, so taking
        // them in turn, each group's matches sorted, yields the tickets in order.
        let mut take_group = |entries: Vec<(u64, &[u8])>, wanted: &dyn Fn(u64) -> bool| {
            let start = tickets.len();
            for (n, bytes) in entries {
                if wanted(n) {
                    let t = decode_ticket(bytes, n)?;
                    if filter.matches(&t) {
                        tickets.push(t);
                    }
                }
            }
            let taken = &mut tickets[start..];
            taken.sort_unstable_by_key(|t| t.number);
            if descending {
                taken.reverse();
            }
            Ok::<_, anyhow::Error>(tickets.len() >= limit)
        };
        match self.candidates(filter)? {
            // Few candidates: read only their groups. Many: one ordered pass over
            // every group is cheaper than that many lookups.
            Some(numbers) if numbers.len() < POINT_READS_BELOW => {
                let mut runs: Vec<&[u64]> = numbers
                    .chunk_by(|a, b| packed::group_key(*a) == packed::group_key(*b))
                    .collect();
                if descending {
                    runs.reverse();
                }
                for run in runs {
                    let Some(group) = self.tickets.get(packed::group_key(run[0]))? else {
                        continue;
                    };
                    let entries =
                        packed::group_entries(&group).with_context(|| corrupt_group(run[0]))?;
                    if take_group(entries, &|n| run.binary_search(&n).is_ok())? {
                        break;
                    }
                }
            }
            candidates => {
                let wanted = |n: u64| {
                    candidates
                        .as_ref()
                        .is_none_or(|c| c.binary_search(&n).is_ok())
                };
                let groups: Box<dyn Iterator<Item = _>> = if descending {
                    Box::new(self.tickets.iter().rev())
                } else {
                    Box::new(self.tickets.iter())
                };
                for item in groups {
                    let (key, group) = item?;
                    let first = packed::group_first(&key);
                    let entries =
                        packed::group_entries(&group).with_context(|| corrupt_group(first))?;
                    if take_group(entries, &wanted)? {
                        break;
                    }
                }
            }
        }
        tickets.truncate(limit);
        Ok(tickets)
    }

    /// Sorted ticket numbers from the indexes, or None when no indexed filter is set.
    fn candidates(&self, f: &TicketFilter) -> Result<Option<Vec<u64>>> {
        let mut sets: Vec<Vec<u64>> = Vec::new();
        if !f.statuses.is_empty() {
            let prefixes = f
                .statuses
                .iter()
                .map(|s| keys::exact(keys::STATUS, s.as_str()));
            sets.push(self.union(prefixes)?);
        }
        if !f.priorities.is_empty() {
            let prefixes = f
                .priorities
                .iter()
                .map(|p| keys::exact(keys::PRIORITY, p.as_str()));
            sets.push(self.union(prefixes)?);
        }
        if let Some(a) = &f.assignee {
            let label = a.label().unwrap_or_else(|| "none".into());
            sets.push(self.scan(&keys::exact(keys::ASSIGNEE, &label))?);
        }
        match (&f.service, &f.category) {
            (Some(s), c) => sets.push(self.scan(&keys::service_prefix(s, c.as_deref()))?),
            (None, Some(c)) => sets.push(self.scan(&keys::exact(keys::CATEGORY, c))?),
            (None, None) => {}
        }
        for tag in &f.tags {
            sets.push(self.scan(&keys::exact(keys::TAG, tag))?);
        }
        if let Some(c) = &f.customer {
            let kind = if c.contains('@') {
                keys::CUSTOMER
            } else {
                keys::DOMAIN
            };
            sets.push(self.scan(&keys::exact(kind, c))?);
        }
        if !f.search.is_empty() {
            let pending = self.pending_texts()?;
            for word in &f.search {
                let mut set = self.union([
                    keys::starting(keys::WORD, word),
                    keys::starting(keys::MESSAGE_WORD, word),
                ])?;
                set.extend(
                    pending
                        .iter()
                        .filter(|(_, texts)| {
                            texts.iter().any(|t| keys::text_has_word_starting(t, word))
                        })
                        .map(|(n, _)| *n),
                );
                set.sort_unstable();
                set.dedup();
                sets.push(set);
            }
        }
        if f.created_since.is_some() || f.created_until.is_some() {
            sets.push(self.time_range(keys::CREATED, f.created_since, f.created_until)?);
        }
        if f.updated_since.is_some() {
            sets.push(self.time_range(keys::UPDATED, f.updated_since, None)?);
        }
        if let Some(by) = f.due_by {
            sets.push(self.time_range(keys::DUE, None, Some(by.saturating_add(1)))?);
        }
        Ok(intersect(sets))
    }

    /// The texts whose words are not indexed yet, with their tickets: a new
    /// ticket's subject and description, a mail's words.
    fn pending_texts(&self) -> Result<Vec<(u64, Vec<String>)>> {
        let pending =
            super::tx::Pending::decode_all(&self.index.get([keys::PENDING])?.unwrap_or_default());
        let mut out = Vec::with_capacity(pending.len());
        for entry in pending {
            let texts: Vec<String> = match entry.id {
                0 => match self.ticket(entry.number)? {
                    Some(t) => t.searchable_text().map(str::to_string).collect(),
                    None => Vec::new(),
                },
                _ => (0..entry.chunks)
                    .filter_map(|i| self.pending.get(entry.chunk_key(i)).transpose())
                    .map(|words| Ok(String::from_utf8_lossy(&words?).into_owned()))
                    .collect::<Result<_>>()?,
            };
            out.push((entry.number, texts));
        }
        Ok(out)
    }

    /// Numbers under every term starting with `prefix`, sorted and unique.
    fn scan(&self, prefix: &[u8]) -> Result<Vec<u64>> {
        let mut numbers = Vec::new();
        for item in self.index.scan_prefix(prefix) {
            let (key, value) = item?;
            keys::decode_posting(&key, &value, &mut numbers);
        }
        numbers.sort_unstable();
        numbers.dedup();
        Ok(numbers)
    }

    fn union(&self, prefixes: impl IntoIterator<Item = Vec<u8>>) -> Result<Vec<u64>> {
        let mut numbers = Vec::new();
        for prefix in prefixes {
            numbers.extend(self.scan(&prefix)?);
        }
        numbers.sort_unstable();
        numbers.dedup();
        Ok(numbers)
    }

    fn time_range(&self, kind: u8, since: Option<i64>, until: Option<i64>) -> Result<Vec<u64>> {
        let mut numbers = Vec::new();
        for item in self.index.scan_prefix([kind]) {
            let (key, value) = item?;
            keys::decode_column(&key, &value, since, until, &mut numbers);
        }
        Ok(numbers)
    }
}

/// Numbers present in every set (each sorted), or None when there are no sets.
fn intersect(mut sets: Vec<Vec<u64>>) -> Option<Vec<u64>> {
    sets.sort_by_key(Vec::len);
    let mut iter = sets.into_iter();
    let mut result = iter.next()?;
    for set in iter {
        result.retain(|n| set.binary_search(n).is_ok());
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::intersect;

    #[test]
    fn intersection_keeps_common_numbers() {
        assert_eq!(
            intersect(vec![vec![1, 2, 5], vec![2, 5, 9], vec![2, 5]]),
            Some(vec![2, 5])
        );
        assert_eq!(intersect(vec![]), None);
    }
}
