//! Fitting a job to a Venice image model's limits: prompts capped at its character limit and
//! the size scaled into its largest side, on its divisor.
//!
//! Prompts are comma-separated tags written most important first for the positive prompt
//! (the adult subject and her age, her appearance, her clothing, the scene; quality tags
//! last) and least important first for the negative one (her own terms, the level's, then
//! the minor-related terms that must always be there). So a positive prompt keeps its head
//! and a negative prompt its tail, in whole tags; a single tag longer than the limit is cut
//! at a word.

/// Which end of a prompt matters most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The first tags (a positive prompt).
    Head,
    /// The last tags (a negative prompt).
    Tail,
}

/// `prompt` in at most `max` characters: whole comma-separated tags from the end `keep`
/// names, in their order; unchanged when it fits.
pub fn cap_prompt(prompt: &str, max: usize, keep: Keep) -> String {
    let prompt = prompt.trim();
    if prompt.chars().count() <= max {
        return prompt.to_owned();
    }
    let mut tags: Vec<&str> = prompt
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if keep == Keep::Tail {
        tags.reverse();
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut used = 0;
    for tag in &tags {
        let cost = tag.chars().count() + if kept.is_empty() { 0 } else { 2 };
        if used + cost > max {
            break;
        }
        used += cost;
        kept.push(tag);
    }
    if kept.is_empty() {
        return cut_words(tags.first().copied().unwrap_or(""), max, keep);
    }
    if keep == Keep::Tail {
        kept.reverse();
    }
    kept.join(", ")
}

/// The words of `tag` that fit in `max` characters, from the end `keep` names.
fn cut_words(tag: &str, max: usize, keep: Keep) -> String {
    let mut words: Vec<&str> = tag.split_whitespace().collect();
    if keep == Keep::Tail {
        words.reverse();
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut used = 0;
    for w in words {
        let cost = w.chars().count() + usize::from(!kept.is_empty());
        if used + cost > max {
            break;
        }
        used += cost;
        kept.push(w);
    }
    if keep == Keep::Tail {
        kept.reverse();
    }
    kept.join(" ")
}

/// `(width, height)` scaled together so neither side passes `max_side` (never enlarged),
/// each rounded to a multiple of `divisor`, at least one `divisor` and never above the max.
pub fn fit_size(width: u32, height: u32, max_side: u32, divisor: u32) -> (u32, u32) {
    let divisor = divisor.max(1);
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (f64::from(max_side) / w.max(h)).min(1.0);
    let top = max_side - max_side % divisor;
    let round = |side: f64| {
        let n = (side * scale / f64::from(divisor)).round() as u32 * divisor;
        n.clamp(divisor, top.max(divisor))
    };
    (round(w), round(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMPT: &str = "photo of an adult woman, 24 years old, long red hair, green eyes, \
        denim jacket, white t-shirt, sitting, smiling, in a cozy café, evening, natural light, \
        realistic, detailed, smartphone photo";

    #[test]
    fn a_prompt_that_fits_is_left_alone() {
        assert_eq!(cap_prompt(PROMPT, 1500, Keep::Head), PROMPT);
    }

    #[test]
    fn a_long_prompt_keeps_her_and_the_scene_and_drops_the_quality_tags_first() {
        let capped = cap_prompt(PROMPT, 150, Keep::Head);
        assert!(capped.chars().count() <= 150, "{capped}");
        assert!(capped.starts_with("photo of an adult woman, 24 years old, long red hair"));
        assert!(capped.contains("in a cozy café"), "{capped}");
        assert!(!capped.contains("smartphone photo"), "{capped}");
        assert!(!capped.ends_with(',') && !capped.ends_with(' '), "{capped}");
        assert!(PROMPT.contains(&capped), "whole tags, in order: {capped}");
    }

    #[test]
    fn the_cap_counts_characters_not_bytes() {
        let russian = "фото взрослой женщины, ".repeat(100);
        let capped = cap_prompt(&russian, 1500, Keep::Head);
        assert!(capped.chars().count() <= 1500 && capped.chars().count() > 1400);
    }

    #[test]
    fn a_negative_prompt_keeps_its_tail_where_the_safety_terms_are() {
        let own = "glasses, ".repeat(200);
        let negative = format!("{own}nsfw, nude, child, minor, underage");
        let capped = cap_prompt(&negative, 100, Keep::Tail);
        assert!(
            capped.ends_with("nsfw, nude, child, minor, underage"),
            "{capped}"
        );
        assert!(capped.chars().count() <= 100);
    }

    #[test]
    fn one_tag_longer_than_the_limit_is_cut_at_a_word() {
        let tag = "a very long description of a sunlit room with plants";
        assert_eq!(cap_prompt(tag, 20, Keep::Head), "a very long");
        assert_eq!(cap_prompt(tag, 20, Keep::Tail), "room with plants");
    }

    #[test]
    fn sizes_are_scaled_together_into_the_max_and_onto_the_divisor() {
        assert_eq!(fit_size(512, 768, 1280, 8), (512, 768), "fits already");
        assert_eq!(fit_size(2048, 1536, 1280, 8), (1280, 960));
        assert_eq!(fit_size(1000, 1500, 1280, 8), (856, 1280));
        assert_eq!(fit_size(2000, 2000, 1280, 64), (1280, 1280));
        assert_eq!(fit_size(1500, 900, 1280, 64), (1280, 768));
        let (w, h) = fit_size(1500, 900, 1000, 64);
        assert!(w <= 1000 && w % 64 == 0 && h % 64 == 0, "{w}x{h}");
        assert_eq!(
            fit_size(10, 5000, 1280, 8),
            (8, 1280),
            "never below the divisor"
        );
        assert_eq!(fit_size(1001, 777, 1280, 8), (1000, 776));
    }
}
