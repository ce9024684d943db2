//! Where the claim finds an effect, and what stands in the way before the call.

use serde_json::json;

use super::super::*;
use super::{message, secs};

fn row(state: &str, lease_left_s: Option<f64>, paused_s: Option<f64>) -> Row {
    Row {
        state: state.to_owned(),
        lease_left_s,
        paused_s,
        chat_id: 7,
        erasure: None,
    }
}

fn look(floor: Duration, why: &'static str) -> Unclaimed {
    Unclaimed::LookAgain { floor, why }
}
#[test]
fn the_claim_finds_it_done_gone_held_or_behind() {
    let erasure = Uuid::new_v4();
    let held = "another sender holds it";
    let behind = "an earlier message goes first";
    let rows: Vec<(&str, Option<Row>, Unclaimed)> = vec![
        ("gone with its chat", None, Unclaimed::Nothing),
        ("sent", Some(row("sent", None, None)), Unclaimed::Nothing),
        (
            "failed",
            Some(row("failed", None, None)),
            Unclaimed::Nothing,
        ),
        (
            "sent, its erasure unfinished",
            Some(Row {
                erasure: Some(erasure),
                ..row("sent", None, None)
            }),
            Unclaimed::FinishErasure {
                chat_id: 7,
                erasure,
            },
        ),
        (
            "leased by another copy",
            Some(row("pending", Some(2.0), None)),
            look(secs(2.05), held),
        ),
        (
            "leased for long: looked at every half minute",
            Some(row("pending", Some(90.0), Some(5.0))),
            look(secs(30.05), held),
        ),
        (
            "behind an earlier message",
            Some(row("pending", None, None)),
            look(secs(0.25), behind),
        ),
        (
            "behind, its lease ran out",
            Some(row("pending", Some(-3.0), None)),
            look(secs(0.25), behind),
        ),
        (
            "behind a paused chat",
            Some(row("pending", None, Some(4.0))),
            look(secs(4.0), behind),
        ),
        (
            "behind a long pause",
            Some(row("pending", None, Some(600.0))),
            look(secs(30.0), behind),
        ),
    ];
    for (name, row, want) in rows {
        assert_eq!(unclaimed(row), want, "{name}");
    }
}

#[test]
fn before_the_call_order_staleness_reach_and_pace_come_first() {
    let erased_first = Plan::Wait {
        why: "the erased chat's earlier sends go first",
        wait: EARLIER_FIRST,
    };
    let gone = Plan::Fail("the user cannot be reached".into(), Failure::UserGone);
    let rows: Vec<(&str, Facts, Option<Plan>)> = vec![
        ("free to go", message(), None),
        (
            "an erasure's last word, earlier sends pending",
            Facts {
                earlier_first: true,
                unreachable: true,
                ..message()
            },
            Some(erased_first),
        ),
        (
            "a streaming step the final text superseded",
            Facts {
                superseded: true,
                unreachable: true,
                chat_wait: secs(1.0),
                ..message()
            },
            Some(Plan::Drop(Stale::Superseded)),
        ),
        (
            "a user who blocked the bot",
            Facts {
                unreachable: true,
                chat_wait: secs(1.0),
                ..message()
            },
            Some(gone),
        ),
        (
            "its chat's slot is taken",
            Facts {
                chat_wait: secs(0.8),
                ..message()
            },
            Some(paced(secs(0.8))),
        ),
        (
            "a callback answer while the bot is paused for long",
            Facts {
                chat_wait: secs(120.0),
                ..Facts::default()
            },
            Some(Plan::Wait {
                why: "paced",
                wait: LOOK_AGAIN,
            }),
        ),
    ];
    for (name, facts, want) in rows {
        assert_eq!(before_call(&facts), want, "{name}");
    }
}
#[test]
fn facts_are_read_from_the_claimed_row() {
    let effect = |params: Value| Effect {
        failing_s: Some(12.5),
        wait_ms: -4,
        ..Effect::sample(params)
    };
    let passing = Facts::of(&effect(json!({EDIT_OF: "x", OR_SEND: false})), false);
    assert!(passing.passing_step && !passing.or_send);
    assert_eq!(passing.failing, secs(12.5));
    assert!(passing.chat_wait.is_zero());
    let last = Facts::of(&effect(json!({EDIT_OF: "x", OR_SEND: true})), true);
    assert!(!last.passing_step && last.or_send && last.earlier_first);
    let plain = Facts::of(&effect(json!({"text": "hi"})), false);
    assert!(!plain.passing_step && !plain.or_send && !plain.uploads);
}
