//! Which remembered facts go into a prompt: the ones loaded with the job (`store::begin`),
//! screened again, one per key (this persona's own first, then the newest), ranked by
//! relevance to the message being answered (character trigrams of its words against the
//! fact's: cheap, language-blind, typo-tolerant — enough for tens of short facts, where a
//! vector store would add a service and an embedding call per turn for little gain), then by
//! recency and by how often the fact came up; then as many as fit the memory's share of the
//! token budget, rendered as one block placed after the summary.

use std::collections::HashSet;

use crate::store::Known;

/// Facts in a prompt at most.
pub const MAX_IN_PROMPT: usize = 20;
/// Days after which a fact's recency counts half.
const HALF_LIFE_DAYS: f64 = 30.0;
/// Words too common to tell facts apart ("the user's …" starts most of them).
const STOP: &[&str] = &[
    "the",
    "user",
    "users",
    "and",
    "has",
    "have",
    "had",
    "was",
    "were",
    "are",
    "with",
    "for",
    "that",
    "this",
    "you",
    "your",
    "his",
    "her",
    "what",
    "who",
    "how",
    "does",
    "did",
    "called",
    "named",
    "name",
    "пользователь",
    "пользователя",
    "что",
    "как",
    "это",
    "его",
    "её",
    "зовут",
];

/// Heads the facts in the prompt (`{user}`: the user's name).
pub const HEADING: &str =
    "What you remember about {user} from your earlier conversations (facts they told you):";

/// A fact as the prompt may show it.
#[derive(Debug, Clone, PartialEq)]
struct Candidate<'a> {
    key: &'a str,
    fact: &'a str,
    mentions: i32,
    age_days: f64,
    own: bool,
}

/// The facts to show for the message `latest`, best first, within `budget` tokens.
pub fn choose(known: &[Known], latest: &str, budget: usize) -> Vec<String> {
    let mut best: Vec<Candidate<'_>> = Vec::new();
    for (key, fact, mentions, age_days, own) in known {
        if !super::extract::safe(fact) {
            continue;
        }
        let c = Candidate {
            key,
            fact,
            mentions: *mentions,
            age_days: *age_days,
            own: *own,
        };
        match best.iter_mut().find(|b| b.key == c.key) {
            Some(b) if (c.own, -c.age_days) > (b.own, -b.age_days) => *b = c,
            Some(_) => {}
            None => best.push(c),
        }
    }
    let asked = grams(latest);
    let mut scored: Vec<(f64, &str)> = best.iter().map(|c| (score(c, &asked), c.fact)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut used = companion::personas::lorebook::tokens(HEADING) + 4;
    let mut out = Vec::new();
    for (_, fact) in scored.into_iter().take(MAX_IN_PROMPT) {
        let cost = companion::personas::lorebook::tokens(fact) + 1;
        if used + cost > budget {
            break;
        }
        used += cost;
        out.push(fact.to_owned());
    }
    out
}

/// Relevance counts most, then recency, then mentions; the user's name always ranks high.
fn score(c: &Candidate<'_>, asked: &HashSet<String>) -> f64 {
    let relevance = dice(asked, &grams(c.fact));
    let recency = 0.5f64.powf(c.age_days.max(0.0) / HALF_LIFE_DAYS);
    let mentions = (f64::from(c.mentions.max(1)).ln() / 10f64.ln()).min(1.0);
    let name = if c.key == "name" { 2.0 } else { 0.0 };
    3.0 * relevance + recency + 0.5 * mentions + name
}

/// The character trigrams of the words of `text` (lower case, three letters or more, common
/// words left out), each word padded so its start and end count.
fn grams(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.chars().count() < 3 || STOP.contains(&word) {
            continue;
        }
        let padded: Vec<char> = format!(" {word} ").chars().collect();
        for w in padded.windows(3) {
            out.insert(w.iter().collect());
        }
    }
    out
}

/// Dice's coefficient of two sets: 0 (nothing shared) to 1 (the same).
fn dice(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(b).count() as f64;
    2.0 * shared / (a.len() + b.len()) as f64
}

/// The prompt's memory block for `facts` (none: empty).
pub fn block(facts: &[String], user: &str) -> String {
    if facts.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = facts.iter().map(|f| format!("- {f}")).collect();
    format!("{}\n{}", HEADING.replace("{user}", user), lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(key: &str, fact: &str, mentions: i32, age_days: f64, own: bool) -> Known {
        (key.into(), fact.into(), mentions, age_days, own)
    }

    #[test]
    fn the_fact_the_message_is_about_comes_first() {
        let known = vec![
            fact("city", "The user lives in Oslo.", 1, 1.0, true),
            fact("dog", "The user has a dog called Rex.", 1, 20.0, true),
            fact("job", "The user works as a nurse.", 3, 2.0, true),
        ];
        let chosen = choose(&known, "Do you remember my dog?", 1000);
        assert_eq!(chosen[0], "The user has a dog called Rex.");
        assert_eq!(chosen.len(), 3);
        let chosen = choose(&known, "I'm off to work now", 1000);
        assert_eq!(chosen[0], "The user works as a nurse.");
    }

    #[test]
    fn recency_and_mentions_order_the_rest_and_the_name_ranks_high() {
        let known = vec![
            fact("old", "The user once visited Rome.", 1, 300.0, true),
            fact(
                "new",
                "The user started a new hobby: pottery.",
                1,
                0.5,
                true,
            ),
            fact("often", "The user loves jazz.", 9, 0.5, true),
            fact("name", "The user's name is Katya.", 1, 100.0, true),
        ];
        let chosen = choose(&known, "hi", 1000);
        assert_eq!(chosen[0], "The user's name is Katya.");
        assert_eq!(chosen[1], "The user loves jazz.");
        assert_eq!(chosen[3], "The user once visited Rome.");
    }

    #[test]
    fn one_fact_per_key_her_own_first_then_the_newest() {
        let known = vec![
            fact("city", "The user lives in Bergen.", 1, 0.1, false),
            fact("city", "The user lives in Oslo.", 1, 5.0, true),
            fact("dog", "The user has a dog called Rex.", 1, 9.0, false),
            fact("dog", "The user has a dog called Max.", 1, 1.0, false),
        ];
        let chosen = choose(&known, "hi", 1000);
        assert_eq!(chosen.len(), 2);
        assert!(chosen.contains(&"The user lives in Oslo.".to_owned()));
        assert!(chosen.contains(&"The user has a dog called Max.".to_owned()));
    }

    #[test]
    fn facts_fit_the_budget_and_unsafe_ones_never_show() {
        let known: Vec<Known> = (0..50)
            .map(|i| {
                fact(
                    &format!("k{i}"),
                    &format!("The user likes thing number {i}."),
                    1,
                    1.0,
                    true,
                )
            })
            .chain([fact("age", "The user is 15 years old.", 5, 0.0, true)])
            .collect();
        let all = choose(&known, "hi", 100_000);
        assert_eq!(all.len(), MAX_IN_PROMPT);
        assert!(all.iter().all(|f| !f.contains("15 years")));
        let few = choose(&known, "hi", 60);
        let used: usize = companion::personas::lorebook::tokens(HEADING)
            + 4
            + few
                .iter()
                .map(|f| companion::personas::lorebook::tokens(f) + 1)
                .sum::<usize>();
        assert!(!few.is_empty() && few.len() < 10 && used <= 60, "{few:?}");
        assert!(choose(&known, "hi", 5).is_empty());
    }

    #[test]
    fn the_block_names_the_user_and_lists_the_facts() {
        assert_eq!(block(&[], "Ann"), "");
        let b = block(&["The user's name is Katya.".to_owned()], "Ann");
        assert!(b.starts_with("What you remember about Ann"));
        assert!(b.ends_with("\n- The user's name is Katya."));
    }
}
