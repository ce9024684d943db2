//! The level table: realistic snippets in English and Russian with the level each must read.

use super::Level::{self, Full, None as Dressed, Partial, Undressing};
use super::{cue_of_dialog, of_message};

const TABLE: &[(&str, Level)] = &[
    ("Hi! How was your day?", Dressed),
    ("I'm in the kitchen making pasta", Dressed),
    ("*slowly unbuttons her blouse*", Undressing),
    ("I'm taking off my dress for you", Undressing),
    ("she slips off her jeans", Undressing),
    ("Let me undress you", Undressing),
    ("I'm standing here in my lingerie", Partial),
    ("just in my bra and panties", Partial),
    ("I came out of the shower wrapped in just a towel", Partial),
    ("topless on the balcony", Partial),
    ("I'm completely naked now", Full),
    ("lying nude on the bed", Full),
    ("I'm not wearing anything", Full),
    ("I'm not naked, silly, I'm in my coat", Dressed),
    ("I would never undress at work", Dressed),
    (
        "Yesterday I was naked on the beach, today I'm at the office",
        Dressed,
    ),
    ("Don't take off your shoes, the floor is cold", Dressed),
    ("I got dressed again, let's go out", Dressed),
    ("I took off my coat and sat down", Undressing),
    ("No lingerie today, just jeans and a sweater", Dressed),
    (
        "*unzips her dress, then stands there completely naked*",
        Full,
    ),
    ("I was naked, then I got dressed", Dressed),
    ("She's wearing nothing but a smile", Full),
    ("half naked on the sofa", Partial),
    ("Once I wore lingerie to a party", Dressed),
    ("Привет! Что делаешь?", Dressed),
    ("Я медленно раздеваюсь", Undressing),
    ("снимаю платье", Undressing),
    ("расстёгиваю блузку", Undressing),
    ("я в нижнем белье", Partial),
    ("стою в одних трусиках", Partial),
    ("вышла из душа в полотенце", Partial),
    ("я совсем голая", Full),
    ("лежу обнажённая на кровати", Full),
    ("на мне ничего не надето", Full),
    ("я полностью раздета", Full),
    ("я не голая, я в пальто", Dressed),
    ("не раздевайся, холодно", Dressed),
    ("вчера я была голой на пляже", Dressed),
    ("я оделась, пойдём гулять", Dressed),
    ("топлес на балконе", Partial),
    ("полуголая на диване", Partial),
    ("без одежды", Full),
    ("Давай поужинаем в кафе", Dressed),
    ("раньше я носила кружевное бельё", Dressed),
];

#[test]
fn the_level_table_reads_every_snippet() {
    assert!(TABLE.len() >= 40);
    let wrong: Vec<String> = TABLE
        .iter()
        .filter(|(text, want)| of_message(text).unwrap_or(Dressed) != *want)
        .map(|(text, want)| format!("{text:?}: want {want:?}, got {:?}", of_message(text)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_newest_message_with_a_cue_decides() {
    let newest_first = ["mmm, go on", "*takes off her dress*", "I'm fully undressed"];
    assert_eq!(cue_of_dialog(newest_first), Some(Undressing));
    assert_eq!(cue_of_dialog(["hello", "how are you"]), None);
    assert!(Full > Partial && Partial > Undressing && Undressing > Dressed);
    assert_eq!(Level::parse("partial"), Some(Partial));
}
