//! The safety table (`shared/safety/cases.tsv`: requests that must block and adult near-misses
//! that must pass, in English and Russian) and the normalisation steps one by one.

use super::normal::{joined, skeleton, tokens};
use super::*;

const CASES: &str = include_str!("../../safety/cases.tsv");

fn cases() -> Vec<(bool, &'static str)> {
    CASES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (kind, text) = l.split_once('\t').expect("kind<TAB>text");
            match kind {
                "block" => (true, text),
                "pass" => (false, text),
                other => panic!("unknown case kind {other:?}"),
            }
        })
        .collect()
}

#[test]
fn the_safety_table_blocks_every_minor_request_and_passes_every_near_miss() {
    let all = cases();
    let blocks = all.iter().filter(|(b, _)| *b).count();
    assert!(
        blocks >= 100 && all.len() - blocks >= 100,
        "{blocks} of {}",
        all.len()
    );
    let mut wrong = Vec::new();
    for (block, text) in &all {
        let got = check(text);
        if got.is_some() != *block {
            wrong.push(format!(
                "{} {text:?} → {got:?}",
                if *block { "missed" } else { "blocked" }
            ));
        }
    }
    let missed = wrong.iter().filter(|w| w.starts_with("missed")).count();
    println!(
        "blocked {}/{blocks} minor requests; passed {}/{} near-misses",
        blocks - missed,
        all.len() - blocks - (wrong.len() - missed),
        all.len() - blocks
    );
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn skeletons_fold_scripts_and_spellings() {
    assert_eq!(skeleton("школьница"), skeleton("shkolnitsa"));
    assert_eq!(skeleton("shkolnica"), skeleton("schkolnitza"));
    assert_eq!(skeleton("малолетка"), "maloletka");
    assert_eq!(skeleton("teeeeen"), "teen");
}

#[test]
fn hidden_spellings_are_undone() {
    let t = tokens("t\u{200B}een l0li schооlgirl 15yo");
    let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["teen", "loli", "schoolgirl", "15", "yo"]);
    assert_eq!(t[3].num, Some(15));
    let j = joined(&tokens("s c h o o l g i r l, t.e.e.n and sch-ool-girl"));
    let texts: Vec<&str> = j.iter().map(|(t, _)| t.text.as_str()).collect();
    assert_eq!(texts, ["schoolgirl", "teen", "schoolgirl"]);
    assert!(check("as a s-c-h-o-o-l-g-i-r-l").is_some());
    assert!(check("as a s c h o o l g i r l").is_some());
}

#[test]
fn chat_refuses_minor_signals_and_family_words_with_sexual_content() {
    assert!(chat_refusal("I'm 15, is that ok?", false).is_some());
    assert!(chat_refusal("the kids next door are loud", false).is_none());
    assert!(chat_refusal("the kids next door are loud, undress", false).is_some());
    assert!(chat_refusal("I'm 15 and I want sex with you", false).is_some());
    assert!(chat_refusal("I'm 15", true).is_some());
    assert!(chat_refusal("my kids are asleep, take off your clothes", false).is_none());
}

#[test]
fn pictures_are_strict_about_children_in_them() {
    assert!(check("with my kids at the park").is_none());
    assert!(check_picture("with my kids at the park").is_some());
    assert!(check_picture("photo of an adult woman, 32 years old, red hair").is_none());
}

#[test]
fn negative_prompt_always_carries_the_terms() {
    assert!(negative_prompt("").contains("underage"));
    assert!(negative_prompt("glasses,").starts_with("glasses, child"));
}
