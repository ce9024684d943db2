//! Whether a message turns the conversation adult, in English and Russian: cue words (by
//! stem, so inflections count), a few cue phrases, and negations ("I don't want sex", "не
//! раздевайся") that cancel a cue close after them. The dialog's `nsfw_enabled` is set from
//! this (only for users who confirmed 18+) and feeds the photo stage.

/// Phrases that are adult as a whole, negation words included ("not wearing anything").
const PHRASES: &[&str] = &[
    "not wearing anything",
    "nothing on",
    "make love",
    "take off your clothes",
    "take your clothes off",
    "without clothes",
    "без одежды",
    "без трусиков",
    "ничего не надето",
    "займёмся любовью",
    "займемся любовью",
    "заняться любовью",
    "сними одежду",
    "нижнее бель",
];

/// Word stems: a word starting with one of these is a cue.
const STEMS: &[&str] = &[
    // English
    "sex",
    "naked",
    "nude",
    "nudity",
    "undress",
    "strip",
    "horny",
    "arous",
    "breast",
    "boob",
    "tits",
    "nipple",
    "lingerie",
    "panties",
    "thong",
    "orgasm",
    "moan",
    "fuck",
    "cum",
    "blowjob",
    "dick",
    "cock",
    "pussy",
    "erotic",
    "nsfw",
    "topless",
    "bottomless",
    "kinky",
    "seduc",
    "foreplay",
    "climax",
    // Russian
    "секс",
    "трах",
    "голая",
    "голый",
    "голой",
    "голым",
    "голенькая",
    "обнаж",
    "раздев",
    "раздень",
    "разден",
    "сиськ",
    "грудь",
    "груди",
    "соск",
    "трусик",
    "стринг",
    "возбужд",
    "оргазм",
    "стон",
    "минет",
    "член",
    "эротич",
    "пошл",
    "кончи",
    "ебат",
    "еба",
    "выеб",
    "соблазн",
    "ласкай",
    "ласкать",
];

/// Words that negate a cue up to three words after them.
const NEGATIONS: &[&str] = &[
    "not",
    "don't",
    "dont",
    "never",
    "no",
    "won't",
    "wont",
    "without",
    "stop",
    "не",
    "нет",
    "никогда",
    "хватит",
    "без",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'").replace('ё', "е"))
        .collect()
}

/// Whether `text` makes the conversation adult.
pub fn is_adult(text: &str) -> bool {
    let lower = text.to_lowercase();
    if PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    let w = words(text);
    w.iter().enumerate().any(|(i, word)| {
        let cue = STEMS.iter().any(|s| word.starts_with(&s.replace('ё', "е")));
        let negated = w[i.saturating_sub(3)..i]
            .iter()
            .any(|n| NEGATIONS.contains(&n.as_str()));
        cue && !negated
    })
}

#[cfg(test)]
mod tests {
    use super::is_adult;

    /// Realistic messages, English and Russian, with whether they turn the dialog adult.
    const TABLE: &[(&str, bool)] = &[
        ("I want you so much, let's have sex", true),
        ("Take off your clothes slowly", true),
        ("You look amazing naked", true),
        ("I'm so horny tonight", true),
        ("Show me your breasts", true),
        ("Are you wearing lingerie?", true),
        ("Undress for me", true),
        ("I'm not wearing anything right now", true),
        ("Let's make love by the fireplace", true),
        ("Your moans drive me crazy", true),
        ("I love your nipples", true),
        ("She was topless on the beach", true),
        ("That was the best orgasm ever", true),
        ("You're so aroused, I can tell", true),
        ("Send me something erotic", true),
        ("I don't want sex, I just want to talk", false),
        ("Please don't undress, we're in public", false),
        ("Never naked in photos, okay?", false),
        ("How was your day at the library?", false),
        ("Let's go to the cinema on Friday", false),
        ("I love how you laugh", false),
        ("Tell me about your childhood", false),
        ("The Sussex countryside is beautiful", false),
        ("My cat knocked over the plant again", false),
        ("Давай займёмся любовью", true),
        ("Разденься для меня", true),
        ("Я хочу увидеть тебя голой", true),
        ("Сними одежду", true),
        ("Покажи свою грудь", true),
        ("Я так возбуждён", true),
        ("Хочу секса с тобой", true),
        ("На тебе сейчас есть нижнее бельё?", true),
        ("Ты сегодня без трусиков?", true),
        ("Твои стоны сводят меня с ума", true),
        ("Это было так эротично", true),
        ("Я не хочу секса, давай просто поговорим", false),
        ("Не раздевайся, тут люди", false),
        ("Как прошёл твой день?", false),
        ("Пойдём завтра в кино?", false),
        ("Расскажи мне про свою учёбу", false),
        ("Мне нравится, как ты смеёшься", false),
        ("Я купил новую книгу", false),
        ("Нет, никакого секса сегодня", false),
    ];

    #[test]
    fn adult_cues_are_found_and_negated_ones_are_not() {
        assert!(TABLE.len() >= 40);
        let wrong: Vec<_> = TABLE
            .iter()
            .filter(|(text, adult)| is_adult(text) != *adult)
            .collect();
        assert!(wrong.is_empty(), "misread: {wrong:?}");
    }
}
