//! The runner's table, row by row: every kind of handler result on a first, a middle and the
//! last delivery, a give-up recorded or not, and every outcome as an ack and as an HTTP answer.

use super::*;

const MAX: i64 = crate::nats::topology::MAX_DELIVER;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn a_runs_result_and_its_delivery_count_give_the_verdict() {
    use Verdict::{GiveUp, Settle};
    let rows: Vec<(&str, Ran, i64, Verdict)> = vec![
        ("done", Ran::Finished, 1, Settle(Outcome::Done)),
        (
            "done on the last delivery",
            Ran::Finished,
            MAX,
            Settle(Outcome::Done),
        ),
        (
            "deferred",
            Ran::Deferred(secs(3)),
            1,
            Settle(Outcome::Defer(secs(3))),
        ),
        (
            "deferred on the last delivery: a wait is no failure",
            Ran::Deferred(secs(3)),
            MAX,
            Settle(Outcome::Defer(secs(3))),
        ),
        (
            "failed: back off",
            Ran::Failed(None),
            1,
            Settle(Outcome::Retry(secs(1))),
        ),
        (
            "failed again",
            Ran::Failed(None),
            3,
            Settle(Outcome::Retry(secs(4))),
        ),
        (
            "failed, told when",
            Ran::Failed(Some(secs(7))),
            2,
            Settle(Outcome::Retry(secs(7))),
        ),
        (
            "failed on the delivery before the last",
            Ran::Failed(None),
            MAX - 1,
            Settle(Outcome::Retry(backoff(MAX - 1))),
        ),
        (
            "failed on the last delivery",
            Ran::Failed(None),
            MAX,
            GiveUp,
        ),
        (
            "failed past the last delivery",
            Ran::Failed(Some(secs(7))),
            MAX + 3,
            GiveUp,
        ),
        ("refused", Ran::Refused, 1, GiveUp),
    ];
    for (name, ran, delivered, want) in rows {
        assert_eq!(verdict(ran, delivered, MAX), want, "{name}");
    }
}

#[test]
fn a_handlers_result_is_read_by_its_kind() {
    let rows: Vec<(Result<(), HandlerError>, Ran)> = vec![
        (Ok(()), Ran::Finished),
        (
            Err(HandlerError::defer("its turn", secs(2))),
            Ran::Deferred(secs(2)),
        ),
        (Err(HandlerError::transient("db blip")), Ran::Failed(None)),
        (
            Err(HandlerError::retry_after("429", secs(9))),
            Ran::Failed(Some(secs(9))),
        ),
        (Err(HandlerError::permanent("bad input")), Ran::Refused),
    ];
    for (result, want) in rows {
        assert_eq!(Ran::of(&result), want, "{result:?}");
    }
}

#[test]
fn a_give_up_drops_the_message_only_once_it_is_recorded() {
    assert_eq!(given_up(true, MAX), Outcome::Dropped);
    assert_eq!(given_up(false, MAX), Outcome::Retry(backoff(MAX)));
    assert_eq!(given_up(false, 1), Outcome::Retry(secs(1)));
}

#[test]
fn outcomes_are_carried_out_as_acks_and_http_answers() {
    let ok = StatusCode::OK;
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    let gone = StatusCode::UNPROCESSABLE_ENTITY;
    let half = Duration::from_millis(500);
    type Row = (
        Outcome,
        AckKind,
        (StatusCode, &'static str, Option<u64>, bool),
        &'static str,
    );
    let rows: Vec<Row> = vec![
        (
            Outcome::Done,
            AckKind::Ack,
            (ok, "done", None, false),
            "ack",
        ),
        (
            Outcome::Retry(secs(4)),
            AckKind::Nak(Some(secs(4))),
            (busy, "retry", Some(4), false),
            "nak",
        ),
        (
            Outcome::Retry(half),
            AckKind::Nak(Some(half)),
            (busy, "retry", Some(1), false),
            "nak",
        ),
        (
            Outcome::Defer(half),
            AckKind::Nak(Some(half)),
            (busy, "retry", Some(1), true),
            "defer",
        ),
        (
            Outcome::Defer(secs(30)),
            AckKind::Nak(Some(secs(30))),
            (busy, "retry", Some(30), true),
            "defer",
        ),
        (
            Outcome::Dropped,
            AckKind::Term,
            (gone, "dropped", None, false),
            "dead",
        ),
    ];
    for (outcome, ack, (status, body, retry_after_s, defer), label) in rows {
        // AckKind has no equality of its own.
        assert_eq!(
            format!("{:?}", outcome.ack()),
            format!("{ack:?}"),
            "{outcome:?}"
        );
        let want = Reply {
            status,
            body,
            retry_after_s,
            defer,
        };
        assert_eq!(outcome.reply(), want, "{outcome:?}");
        assert_eq!(outcome.label(), label, "{outcome:?}");
    }
}
