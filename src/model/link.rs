//! How two linked tickets relate: each side keeps a kind, saying what the other
//! ticket is to it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What the other ticket of a link is to this one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// Related, no more (every link made before kinds existed).
    #[default]
    Relates,
    /// The same request as this one.
    Duplicates,
    /// This ticket is a sub-ticket of the other.
    Parent,
    /// The other ticket is a sub-ticket of this one.
    Child,
}

impl LinkKind {
    pub const ALL: [LinkKind; 4] = [
        LinkKind::Relates,
        LinkKind::Duplicates,
        LinkKind::Parent,
        LinkKind::Child,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Relates => "relates",
            LinkKind::Duplicates => "duplicates",
            LinkKind::Parent => "parent",
            LinkKind::Child => "child",
        }
    }

    /// The kind the other ticket keeps for this one: a parent is a child's.
    pub fn other_side(self) -> LinkKind {
        match self {
            LinkKind::Parent => LinkKind::Child,
            LinkKind::Child => LinkKind::Parent,
            same => same,
        }
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LinkKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        LinkKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                format!("'{text}' is not a kind of link (relates, duplicates, parent or child)")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_is_a_child_on_the_other_side_and_names_read_back() {
        for kind in LinkKind::ALL {
            assert_eq!(kind.other_side().other_side(), kind);
            assert_eq!(kind.as_str().parse::<LinkKind>(), Ok(kind));
        }
        assert_eq!(LinkKind::Parent.other_side(), LinkKind::Child);
        assert!("sibling"
            .parse::<LinkKind>()
            .unwrap_err()
            .contains("'sibling'"));
    }
}
