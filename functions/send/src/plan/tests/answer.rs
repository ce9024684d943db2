//! Telegram's answers, and the second call a refusal may call for.

use runtime::telegram::sort;
use serde_json::json;

use super::super::*;
use super::message;

const GIVE_UP: Duration = Duration::from_secs(3600);
#[test]
fn telegrams_answers_become_plans() {
    let hello = json!({"message_id": 41, "text": "hi"});
    let failing_long = Facts {
        failing: GIVE_UP,
        ..message()
    };
    let step = Facts {
        passing_step: true,
        ..message()
    };
    let notice = Facts {
        notice: true,
        ..message()
    };
    let callback = Facts::default();
    let sorry = Failure::ForGood { sorry: true };
    let quiet = Failure::ForGood { sorry: false };
    let timeout = || Err(TgError::Transient("operation timed out".into()));
    let bad_gateway = || Err(sort(502, "Bad Gateway", None));
    let refused = || Err(sort(400, "Bad Request: message text is empty", None));
    let refusal = || "400 Bad Request: message text is empty".to_owned();
    let blocked = "Forbidden: bot was blocked by the user";
    let flood = |s: u64| Err(sort(429, "Too Many Requests", Some(s as f64)));
    let pause = |s: u64, chat_paced: bool| Plan::Pause {
        pause: Duration::from_secs(s),
        chat_paced,
        wait: Duration::from_secs(s).min(LOOK_AGAIN),
    };
    type Row = (&'static str, Facts, Result<Value, TgError>, Plan);
    let rows: Vec<Row> = vec![
        ("sent", message(), Ok(hello.clone()), Plan::Sent(hello)),
        (
            "an edit with the text it has",
            message(),
            Err(sort(400, "Bad Request: message is not modified", None)),
            Plan::Sent(Value::Null),
        ),
        ("a 429 on a message", message(), flood(2), pause(2, true)),
        ("a long 429", message(), flood(90), pause(90, true)),
        (
            "a 429 on a callback answer",
            callback,
            flood(3),
            pause(3, false),
        ),
        (
            "blocked",
            message(),
            Err(sort(403, blocked, None)),
            Plan::Unreachable(blocked.into()),
        ),
        (
            "a chat that is gone",
            message(),
            Err(sort(400, "Bad Request: chat not found", None)),
            Plan::Unreachable("Bad Request: chat not found".into()),
        ),
        (
            "a 5xx",
            message(),
            bad_gateway(),
            Plan::Retry("502 Bad Gateway".into()),
        ),
        (
            "a timeout",
            message(),
            timeout(),
            Plan::Retry("operation timed out".into()),
        ),
        (
            "a 5xx after failing for SEND_GIVE_UP_SECS",
            failing_long.clone(),
            bad_gateway(),
            Plan::Fail("502 Bad Gateway".into(), sorry),
        ),
        (
            "a notice failing for SEND_GIVE_UP_SECS",
            Facts {
                notice: true,
                ..failing_long
            },
            timeout(),
            Plan::Fail("operation timed out".into(), quiet),
        ),
        (
            "a streaming step in an outage",
            step.clone(),
            timeout(),
            Plan::Fail("operation timed out".into(), Failure::StepDropped),
        ),
        (
            "a streaming step refused",
            step,
            refused(),
            Plan::Fail(refusal(), Failure::StepRefused),
        ),
        (
            "a message refused",
            message(),
            refused(),
            Plan::Fail(refusal(), sorry),
        ),
        (
            "a notice refused",
            notice,
            refused(),
            Plan::Fail(refusal(), quiet),
        ),
        (
            "a callback answer too old",
            Facts::default(),
            Err(sort(400, "Bad Request: query is too old", None)),
            Plan::Fail("400 Bad Request: query is too old".into(), quiet),
        ),
        (
            "a photo by a file id Telegram forgot (no fallback left)",
            message(),
            Err(sort(400, "Bad Request: wrong file identifier", None)),
            Plan::Fail("400 Bad Request: wrong file identifier".into(), sorry),
        ),
    ];
    for (name, facts, answer, want) in rows {
        assert_eq!(answered(answer, &facts, GIVE_UP), want, "{name}");
    }
}

#[test]
fn a_refusal_may_call_for_a_second_call() {
    let final_edit = Facts {
        or_send: true,
        ..message()
    };
    let upload = Facts {
        uploads: true,
        ..message()
    };
    let forgot = || {
        Err(sort(
            400,
            "Bad Request: wrong file identifier/HTTP URL",
            None,
        ))
    };
    let refused = || Err(sort(400, "Bad Request: message to edit not found", None));
    let ok = || Ok(json!({"message_id": 1}));
    type Row = (&'static str, &'static str, Facts, Result<Value, TgError>);
    let rows: Vec<(Row, Option<Fallback>)> = vec![
        (
            (
                "a final edit refused",
                "editMessageText",
                final_edit.clone(),
                refused(),
            ),
            Some(Fallback::SendAnew),
        ),
        (
            (
                "a passing edit refused",
                "editMessageText",
                message(),
                refused(),
            ),
            None,
        ),
        (
            (
                "a final edit in an outage",
                "editMessageText",
                final_edit,
                Err(TgError::Transient("502".into())),
            ),
            None,
        ),
        (
            (
                "a photo by a forgotten file id",
                "sendPhoto",
                message(),
                forgot(),
            ),
            Some(Fallback::UploadAgain),
        ),
        (
            ("an uploaded photo refused", "sendPhoto", upload, forgot()),
            None,
        ),
        (
            (
                "a photo refused otherwise",
                "sendPhoto",
                message(),
                refused(),
            ),
            None,
        ),
        (("a text refused", "sendMessage", message(), forgot()), None),
        (("a photo sent", "sendPhoto", message(), ok()), None),
    ];
    for ((name, method, facts, answer), want) in rows {
        assert_eq!(fallback(method, &facts, &answer), want, "{name}");
    }
    assert!(unknown_file(
        "Bad Request: FILE_REFERENCE_EXPIRED file reference"
    ));
    assert!(unknown_file("Bad Request: invalid file_id"));
}
#[test]
fn backoff_grows_and_stays_within_half_a_minute() {
    assert_eq!(send_backoff(1), Duration::from_secs(1));
    assert_eq!(send_backoff(4), Duration::from_secs(8));
    assert_eq!(send_backoff(6), MAX_BACKOFF);
    assert_eq!(send_backoff(500), MAX_BACKOFF);
}
