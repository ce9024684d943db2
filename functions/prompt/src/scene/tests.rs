//! Scene JSON validation and the keyword fallback.

use super::*;

const GOOD: &str = r#"{"place": "in a cozy café by the window", "time_of_day": "evening",
 "pose": "sitting at a small table", "expression": "playful smile",
 "clothing": ["red sweater", "jeans"], "level": "none", "caption": "Saved you a seat ☕"}"#;

#[test]
fn a_scene_of_the_schema_is_taken() {
    let s = Scene::parse(GOOD).unwrap();
    assert_eq!(s.place, "in a cozy café by the window");
    assert_eq!(s.clothing, ["red sweater", "jeans"]);
    assert_eq!(s.level, Level::None);
    let fenced = format!("```json\n{GOOD}\n```");
    assert_eq!(Scene::parse(&fenced).unwrap(), s);
}

#[test]
fn nonsense_and_bad_fields_are_refused() {
    assert!(matches!(
        Scene::parse("Sure! Here's the scene: a café"),
        Err(SceneError::Shape(_))
    ));
    let unknown = GOOD.replace("\"caption\"", "\"mood\": \"x\", \"caption\"");
    assert!(matches!(Scene::parse(&unknown), Err(SceneError::Shape(_))));
    let level = GOOD.replace("\"none\"", "\"extreme\"");
    assert!(matches!(Scene::parse(&level), Err(SceneError::Shape(_))));
    let empty = GOOD.replace("sitting at a small table", " ");
    assert_eq!(Scene::parse(&empty), Err(SceneError::Field("pose")));
    let long = GOOD.replace("evening", &"very ".repeat(30));
    assert_eq!(Scene::parse(&long), Err(SceneError::Field("time_of_day")));
    let many = GOOD.replace("\"jeans\"", &["\"sock\""; 9].join(","));
    assert_eq!(Scene::parse(&many), Err(SceneError::Field("clothing")));
}

#[test]
fn a_scene_that_suggests_a_minor_is_refused() {
    let s = GOOD.replace("red sweater", "school uniform");
    assert!(matches!(Scene::parse(&s), Err(SceneError::Unsafe(_))));
    let s = GOOD.replace("playful smile", "looks about 14");
    assert!(matches!(Scene::parse(&s), Err(SceneError::Unsafe(_))));
}

#[test]
fn the_fallback_reads_keywords_and_keeps_the_previous_scene() {
    let msgs = vec![
        "let's watch the sunset on the beach".to_owned(),
        "I'm in the kitchen".to_owned(),
    ];
    let s = Scene::fallback(None, &msgs);
    assert_eq!(
        (s.place.as_str(), s.time_of_day.as_str()),
        ("on a sunny beach", "evening, warm sunset light")
    );
    let prev = Scene {
        clothing: vec!["white shirt".into()],
        place: "in a bright kitchen".into(),
        ..Scene::default()
    };
    let s = Scene::fallback(Some(&prev), &["hmm".to_owned()]);
    assert_eq!(s.place, "in a bright kitchen");
    assert_eq!(s.clothing, ["white shirt"]);
    assert_eq!(
        Scene::fallback(None, &[] as &[&str]).place,
        "in a cozy room"
    );
    assert_eq!(
        Scene::fallback(None, &["Пойдём в кафе".to_owned()]).place,
        "in a cozy café"
    );
}
