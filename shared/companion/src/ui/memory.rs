//! The `/memory` view's buttons: a page of what the persona remembers, 🗑 one fact (and show
//! that page again), forget everything (asked first), and sharing the facts with every
//! persona on or off. Encoded after a `mem…:` prefix by `Button::Memory` (well within
//! Telegram's 64 bytes: the longest is `memdel:` with an i64 and an i16).

use std::fmt::Write;

/// A press on the `/memory` view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryPress {
    /// Page `page` (from 0) of the facts.
    Page(i16),
    /// Forget fact `fact` (`memory_facts.id`), then show page `page` again.
    Forget { fact: i64, page: i16 },
    /// "Forget everything": ask (`false`) or do it (`true`).
    ForgetAll(bool),
    /// Share the facts with every persona (`true`) or keep them per persona (`false`).
    Share(bool),
}

impl MemoryPress {
    /// Writes the press's `callback_data` into `s`.
    pub(crate) fn encode(&self, s: &mut String) -> std::fmt::Result {
        match self {
            MemoryPress::Page(page) => write!(s, "mem:{page}"),
            MemoryPress::Forget { fact, page } => write!(s, "memdel:{fact}:{page}"),
            MemoryPress::ForgetAll(false) => write!(s, "memall:ask"),
            MemoryPress::ForgetAll(true) => write!(s, "memall:yes"),
            MemoryPress::Share(true) => write!(s, "memshare:on"),
            MemoryPress::Share(false) => write!(s, "memshare:off"),
        }
    }

    /// The press of `kind:arg`, if it is one (the caller checks the canonical spelling).
    pub(crate) fn decode(kind: &str, arg: &str) -> Option<Self> {
        let page = |p: &str| p.parse::<i16>().ok().filter(|p| *p >= 0);
        Some(match (kind, arg) {
            ("mem", p) => MemoryPress::Page(page(p)?),
            ("memdel", a) => {
                let (fact, p) = a.split_once(':')?;
                let fact = fact.parse::<i64>().ok().filter(|f| *f > 0)?;
                MemoryPress::Forget {
                    fact,
                    page: page(p)?,
                }
            }
            ("memall", "ask") => MemoryPress::ForgetAll(false),
            ("memall", "yes") => MemoryPress::ForgetAll(true),
            ("memshare", "on") => MemoryPress::Share(true),
            ("memshare", "off") => MemoryPress::Share(false),
            _ => return None,
        })
    }
}
