//! The prompts sent to the image backend. Positive: always an adult subject with the persona's
//! age, her appearance tags, her clothing adapted to the nudity level, the scene. Negative: the
//! persona's terms, what the level must not show, and always the minor-related terms. Also the
//! line the dialog's history gets, so the persona knows she sent the photo.

use companion::content::nudity::Level;
use companion::content::safety;

use crate::scene::Scene;

/// The persona's look, from the database, and what her lorebook says about the moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    /// Display name.
    pub name: String,
    /// Adult age.
    pub age: i32,
    /// Appearance tags.
    pub appearance: String,
    /// Her constant outfit.
    pub clothing: String,
    /// Her extra negative terms.
    pub negative: String,
    /// The lorebook entries the dialog activates (only those that passed the picture rules),
    /// for the scene: a place's look, who is around.
    pub lore: Vec<String>,
}

/// The level a picture may have: what the dialog wants, only in an adult dialog of a
/// confirmed adult (`adult`), and never above the persona's ceiling.
pub fn allowed(wanted: Level, adult: bool, ceiling: Level) -> Level {
    if adult {
        wanted.min(ceiling)
    } else {
        Level::None
    }
}

/// What a picture at `level` must not show.
fn level_negative(level: Level) -> &'static str {
    match level {
        Level::None => "nsfw, nude, naked, nipples, lingerie, underwear",
        Level::Undressing => "nude, naked, nipples, genitals",
        Level::Partial => "genitals, fully nude",
        Level::Full => "",
    }
}

/// Her clothing at `level`: the scene's items (or her usual outfit), adapted.
fn clothing(look: &Look, scene: &Scene, level: Level) -> String {
    let worn = if scene.clothing.is_empty() {
        look.clothing.trim().to_owned()
    } else {
        scene.clothing.join(", ")
    };
    match level {
        Level::None => worn,
        Level::Undressing if worn.is_empty() => "undressing, clothes half off".to_owned(),
        Level::Undressing => format!("{worn}, undressing, clothes half off"),
        Level::Partial => "in lace lingerie, bare shoulders".to_owned(),
        Level::Full => "nude".to_owned(),
    }
}

/// `(prompt, negative prompt)` for `scene` at `level`.
pub fn prompts(look: &Look, scene: &Scene, level: Level) -> (String, String) {
    let mut parts = vec![format!("photo of an adult woman, {} years old", look.age)];
    let pieces = [
        look.appearance.trim().to_owned(),
        clothing(look, scene, level),
        scene.pose.clone(),
        scene.expression.clone(),
        scene.place.clone(),
        scene.time_of_day.clone(),
    ];
    parts.extend(pieces.into_iter().filter(|p| !p.trim().is_empty()));
    parts.push("natural light, realistic, detailed, smartphone photo".to_owned());
    let own = [look.negative.trim(), level_negative(level)]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    (parts.join(", "), safety::negative_prompt(&own))
}

/// The history line: "[Stacy sent a photo: in a cozy café, evening, …]".
pub fn history_line(look: &Look, scene: &Scene, level: Level) -> String {
    let what = [
        scene.place.as_str(),
        scene.time_of_day.as_str(),
        scene.pose.as_str(),
        scene.expression.as_str(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .map(str::to_owned)
    .chain(std::iter::once(clothing(look, scene, level)).filter(|c| !c.is_empty()))
    .collect::<Vec<_>>()
    .join(", ");
    format!("[{} sent a photo: {what}]", look.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look() -> Look {
        Look {
            name: "Stacy".into(),
            age: 24,
            appearance: "red hair, green eyes".into(),
            clothing: "denim jacket, white t-shirt".into(),
            negative: "glasses".into(),
            lore: Vec::new(),
        }
    }

    fn scene() -> Scene {
        Scene {
            place: "in a cozy café".into(),
            time_of_day: "evening".into(),
            pose: "sitting".into(),
            expression: "smiling".into(),
            ..Scene::default()
        }
    }

    #[test]
    fn explicit_levels_need_an_adult_dialog_and_stay_under_the_ceiling() {
        assert_eq!(allowed(Level::Full, false, Level::Full), Level::None);
        assert_eq!(allowed(Level::Full, true, Level::Partial), Level::Partial);
        assert_eq!(
            allowed(Level::Undressing, true, Level::Full),
            Level::Undressing
        );
        assert_eq!(allowed(Level::Partial, true, Level::None), Level::None);
    }

    #[test]
    fn every_level_has_its_clothing_and_negative() {
        let (p, n) = prompts(&look(), &scene(), Level::None);
        assert_eq!(
            p,
            "photo of an adult woman, 24 years old, red hair, green eyes, denim jacket, white t-shirt, sitting, smiling, in a cozy café, evening, natural light, realistic, detailed, smartphone photo"
        );
        assert!(n.starts_with("glasses, nsfw, nude") && n.ends_with(safety::NEGATIVE_TERMS));
        let (p, _) = prompts(&look(), &scene(), Level::Undressing);
        assert!(p.contains("denim jacket, white t-shirt, undressing, clothes half off"));
        let (p, n) = prompts(&look(), &scene(), Level::Partial);
        assert!(p.contains("in lace lingerie") && !p.contains("denim"));
        assert!(n.starts_with("glasses, genitals"));
        let (p, n) = prompts(&look(), &scene(), Level::Full);
        assert!(p.contains(", nude, "));
        assert_eq!(n, format!("glasses, {}", safety::NEGATIVE_TERMS));
    }

    #[test]
    fn the_scene_clothing_replaces_the_outfit_and_history_says_what_she_sent() {
        let s = Scene {
            clothing: vec!["red dress".into()],
            ..scene()
        };
        assert!(
            prompts(&look(), &s, Level::None)
                .0
                .contains("green eyes, red dress, sitting")
        );
        assert_eq!(
            history_line(&look(), &s, Level::None),
            "[Stacy sent a photo: in a cozy café, evening, sitting, smiling, red dress]"
        );
    }
}
