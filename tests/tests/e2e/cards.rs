//! Community Character Cards, end to end: the three cards of `tests/fixtures/cards` (a V2 PNG,
//! a V3 PNG with both chunks, a V3 JSON with a lorebook; none states an age) go through the
//! real `persona` binary with the age the operator gives, which refuses an age under 18 and a
//! card whose words make her a minor. The system then starts on that folder, which also holds
//! a truncated JSON card, a PNG without a card and a card with no age: each is refused alone —
//! absent from the picker, named in fn-updates' log and in the admin's Health section — while
//! every imported persona can be chosen and answers. A Russian user is greeted in Russian by
//! a persona whose card has Russian greetings, in the card's own language by the others. A
//! folder with no usable card at all stops fn-updates at start.

use std::path::{Path, PathBuf};
use std::process::Command;

use standins::harness::{NatsServer, TestDb, bin_dir, root};
use standins::llm::answer_for;
use standins::system::{System, buttons_of, labels_of, text_of};
use standins::telegram::Call;
use standins::updates::User;

use crate::helpers::Chat;

const ADMIN: i64 = 9301;

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/cards").join(name)
}

/// Runs `persona import card --age age --dir dir`: exit code and what it said.
fn import(card: &Path, age: &str, dir: &Path) -> (i32, String) {
    let out = Command::new(bin_dir().join("persona"))
        .arg("import")
        .arg(card)
        .args(["--age", age, "--dir"])
        .arg(dir)
        .output()
        .expect("the persona binary runs");
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), said.into_owned())
}

/// The personas folder: the shipped Stacy, the three imported cards and the broken files.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("avatars")).unwrap();
    let shipped = root().join("personas");
    std::fs::copy(shipped.join("stacy.json"), p.join("stacy.json")).unwrap();
    std::fs::copy(
        shipped.join("avatars/stacy.png"),
        p.join("avatars/stacy.png"),
    )
    .unwrap();
    for (card, age) in [
        ("rhea-v2.png", "44"),
        ("ines-v3.png", "38"),
        ("margot-v3.json", "35"),
    ] {
        let (code, said) = import(&fixture(card), age, p);
        assert_eq!(code, 0, "{card}: {said}");
        assert!(
            said.contains(&format!("age {age} as stated by you")),
            "{said}"
        );
    }
    // Refused by the binary, nothing written: an age under 18, and words of a minor whatever
    // the age given.
    let before = std::fs::read_dir(p).unwrap().count();
    let (code, said) = import(&fixture("margot-v3.json"), "17", p);
    assert_ne!(code, 0);
    assert!(said.contains("the age must be 18 or more"), "{said}");
    let scratch = tempfile::tempdir().unwrap();
    let young = scratch.path().join("young.json");
    let text = std::fs::read_to_string(fixture("margot-v3.json")).unwrap();
    let text = text.replace(
        "{{char}} runs The Lantern",
        "{{char}} is 16 and runs The Lantern",
    );
    std::fs::write(&young, text).unwrap();
    let (code, said) = import(&young, "30", p);
    assert_ne!(code, 0);
    assert!(
        said.contains("data.description") && said.contains("points to a minor"),
        "{said}"
    );
    assert_eq!(std::fs::read_dir(p).unwrap().count(), before);
    // The broken ones, and a community card put there without an age.
    for (from, to) in [
        ("truncated.json", "truncated.json"),
        ("no-card.png", "no-card.png"),
        ("margot-v3.json", "margot-raw.json"),
    ] {
        std::fs::copy(fixture(from), p.join(to)).unwrap();
    }
    dir
}

/// `/start` and the 18+ confirmation: the picker's closing list.
async fn confirm(chat: &Chat<'_>) -> Call {
    let gate = chat
        .ask("/start", |c| buttons_of(c).contains(&"age:yes".to_owned()))
        .await;
    let since = chat.sys.tg.calls().len();
    chat.press(&gate, "age:yes").await;
    chat.expect_message(since, |c| buttons_of(c).contains(&"chats:0".to_owned()))
        .await
}

/// Presses `name`'s button in the picker's closing list (`/persona`'s when none is given);
/// her greeting.
async fn choose(chat: &Chat<'_>, name: &str, menu: Option<Call>) -> Call {
    let menu = match menu {
        Some(m) => m,
        None => {
            chat.ask("/persona", |c| {
                buttons_of(c).contains(&"chats:0".to_owned())
            })
            .await
        }
    };
    let labels = labels_of(&menu);
    let at = labels.iter().position(|l| l == &format!("💬 {name}"));
    let at = at.unwrap_or_else(|| panic!("{name} not in the picker: {labels:?}"));
    let since = chat.sys.tg.calls().len();
    chat.press(&menu, &buttons_of(&menu)[at]).await;
    chat.expect_message(since, |c| {
        buttons_of(c).iter().any(|b| b.starts_with("photo:"))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_community_cards_chat_and_broken_ones_are_refused_alone_and_shown_to_the_admin() {
    let dir = folder();
    let shown = dir.path().display().to_string();
    let admins = ADMIN.to_string();
    let sys = System::start(
        "cards",
        &[("PERSONAS_DIR", &shown), ("ADMIN_USER_IDS", &admins)],
    )
    .await
    .unwrap();
    let log = sys.log("fn-updates");
    for file in ["truncated.json", "no-card.png", "margot-raw.json"] {
        assert!(
            log.lines()
                .any(|l| l.contains("persona card refused") && l.contains(file)),
            "{file} not warned about:\n{log}"
        );
    }

    // The picker: Stacy first, the newcomers after her in the order imported, nothing else.
    let chat = Chat::new(&sys, 9311);
    let menu = confirm(&chat).await;
    assert_eq!(
        labels_of(&menu)[..4],
        [
            "💬 Stacy",
            "💬 Rhea Voss",
            "💬 Dr. Ines Okafor",
            "💬 Margot Lefèvre"
        ]
    );
    assert_eq!(buttons_of(&menu).len(), 5, "four personas, then My chats");
    let captions: Vec<String> = sys
        .tg
        .calls()
        .iter()
        .filter(|c| c.params["chat_id"] == 9311 && c.method == "sendphoto")
        .map(|c| c.params["caption"].as_str().unwrap_or("").to_owned())
        .collect();
    for name in ["Rhea Voss, 44", "Dr. Ines Okafor, 38"] {
        assert!(captions.iter().any(|c| c == name), "{name}: {captions:?}");
    }

    // Each imported persona greets as her card says and answers.
    for (name, greeting, age) in [
        ("Rhea Voss", "*Rhea Voss wipes her hands", 44),
        ("Dr. Ines Okafor", "*Ines hands you a towel", 38),
        ("Margot Lefèvre", "*Margot Lefèvre glances up", 35),
    ] {
        let hello = choose(&chat, name, None).await;
        assert!(text_of(&hello).starts_with(greeting), "{}", text_of(&hello));
        assert!(text_of(&hello).contains("Ann"), "{{{{user}}}} expanded");
        let said = format!("hello, {name}");
        chat.turn(&said).await;
        let request = sys.llm.requests().last().cloned().unwrap();
        let system = request["messages"][0]["content"].as_str().unwrap();
        assert!(
            system.contains(&format!("is {age} years old")),
            "{name}: {system}"
        );
        assert_eq!(
            request["messages"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .map(|s| s.contains(&said)),
            Some(true),
            "{request}"
        );
        assert_eq!(chat.count_text(&answer_for(&said)), 1);
    }

    // Margot (chosen last) brought her lorebook: an entry reaches the model's prompt when its
    // keyword is said, not before; a selective one waits for its secondary key.
    let system_of =
        |r: &serde_json::Value| r["messages"][0]["content"].as_str().unwrap().to_owned();
    let cat = "Pip is the shop's grey cat";
    let harbour = "The harbour quarter of Saint-Maur";
    let before = system_of(sys.llm.requests().last().unwrap());
    assert!(
        !before.contains(cat) && !before.contains(harbour),
        "{before}"
    );
    chat.turn("is Pip asleep in the window again?").await;
    let pip = system_of(sys.llm.requests().last().unwrap());
    assert!(pip.contains(cat) && !pip.contains(harbour), "{pip}");
    chat.turn("I walked along the harbour today").await;
    let day = system_of(sys.llm.requests().last().unwrap());
    assert!(!day.contains(harbour), "no secondary key yet: {day}");
    chat.turn("and back along the harbour late at night").await;
    let night = system_of(sys.llm.requests().last().unwrap());
    assert!(night.contains(harbour), "{night}");

    // A Russian user: Stacy's card has Russian greetings, Rhea's does not.
    let ru = Chat::as_user(&sys, User::new(9312, "Аня").speaking("ru"));
    let menu = confirm(&ru).await;
    let stacy = choose(&ru, "Stacy", Some(menu)).await;
    assert!(
        text_of(&stacy).starts_with("омг привет, Аня!!"),
        "{}",
        text_of(&stacy)
    );
    assert_eq!(labels_of(&stacy)[..3], ["◀", "1/3", "▶"]);
    let rhea = choose(&ru, "Rhea Voss", None).await;
    assert!(text_of(&rhea).starts_with("*Rhea Voss wipes her hands"));

    // The admin's Health section lists the refused cards with their field.
    let admin = Chat::new(&sys, ADMIN);
    let panel = admin
        .ask("/admin", |c| text_of(c).starts_with("📊 Overview"))
        .await;
    let since = sys.tg.calls().len();
    admin.press(&panel, "adm:health").await;
    let health = admin
        .expect_call(since, |c| text_of(c).starts_with("🩺"))
        .await;
    let text = text_of(&health);
    for line in [
        "Persona cards refused at the last load: 3",
        "• margot-raw.json — data.extensions.companion.age: ",
        "• no-card.png — (png): the PNG holds no character card",
        "• truncated.json — (json): ",
    ] {
        assert!(text.contains(line), "want {line:?} in:\n{text}");
    }
    assert!(sys.pid("fn-updates").is_some(), "fn-updates is up");
}

#[tokio::test]
async fn a_folder_with_no_usable_card_stops_fn_updates_naming_the_problems() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["truncated.json", "no-card.png"] {
        std::fs::copy(fixture(name), dir.path().join(name)).unwrap();
    }
    let db = TestDb::create().await.unwrap();
    let nats = NatsServer::start().unwrap();
    standins::harness::migrate_with(&db.url, &nats.admin_env()).unwrap();
    let out = Command::new(bin_dir().join("fn-updates"))
        .env_clear()
        .envs([
            ("DATABASE_URL", db.url.as_str()),
            ("NATS_URL", nats.url.as_str()),
            ("BOT_TOKEN", "1:x"),
            ("PERSONAS_DIR", &dir.path().display().to_string()),
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("no persona could be loaded")
            && said.contains("truncated.json: (json)")
            && said.contains("no-card.png: (png)"),
        "{said}"
    );
}
