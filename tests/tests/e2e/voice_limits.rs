//! Voice notes against abuse, end to end: a flood of voice notes over the user's rate and day's
//! seconds costs no transcription beyond what the budget allows (each note is reserved before
//! it is fetched), a note lying about its length is charged as long as its Ogg is (and over the
//! limit not heard), and quick repeated 🔊 presses on one answer are spoken once.

use std::time::Duration;

use runtime::audio::split;
use standins::audio::voice_note;
use standins::llm::answer_for;
use standins::system::{buttons_of, text_of};
use standins::updates;

use crate::helpers::{Chat, settle, settle_within};
use crate::voice::{send_voice, speech_standin, wait_voices};

async fn used_seconds(pool: &sqlx::PgPool, user: i64) -> i64 {
    sqlx::query_scalar::<_, i32>(
        "SELECT seconds FROM voice_usage WHERE user_id = $1 AND day = current_date",
    )
    .bind(user)
    .fetch_optional(pool)
    .await
    .unwrap()
    .map_or(0, i64::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_floods_lies_and_repeated_presses_cost_no_extra_speech_calls() {
    let (audio, url) = speech_standin().await;
    let env = [
        ("STT_API_URL", url.as_str()),
        ("TTS_API_URL", url.as_str()),
        ("VOICE_SECONDS_PER_DAY", "12"),
        ("MESSAGES_PER_MINUTE", "12"),
        ("TTS_MAX_CHARS", "50"),
    ];
    let sys = standins::system::System::start("voice-limits", &env)
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();

    // Sixteen 1 s notes at once, more than the rate (a minute's worth: 12) allows: the notes
    // over the budget are neither fetched nor transcribed, and each one heard is charged.
    let chat = Chat::new(&sys, 8201);
    chat.open_dialog().await;
    for i in 0..16 {
        send_voice(&chat, 1000 + i, &format!("flood number {i}"), 1).await;
    }
    settle_within(&sys, Duration::from_secs(60)).await;
    let heard = audio.requests_of("stt").len() as i64;
    // At most the day's 12 s, and fewer when the rate (refilling one every 5 s) runs out.
    assert!((1..=12).contains(&heard), "{heard} transcriptions");
    assert_eq!(used_seconds(&pool, chat.user.id).await, heard);
    assert!(
        sys.tg.calls_of("getfile").len() as i64 <= heard,
        "nothing fetched beyond the budget"
    );

    // A note claiming 1 s that lasts 30: charged 30 s, over the limit, not transcribed.
    let liar = Chat::new(&sys, 8202);
    liar.open_dialog().await;
    let bytes = voice_note("a long story", 30);
    let (id, unique) = sys.tg.user_voice(&bytes);
    let u = updates::voice(
        sys.tg.next_update_id(),
        1100,
        &liar.user,
        (&id, &unique),
        1,
        bytes.len(),
    );
    let since = sys.tg.calls().len();
    assert_eq!(sys.post_update(&u).await, 200);
    liar.expect_message(since, |c| text_of(c).contains("12 s"))
        .await;
    settle(&sys).await;
    assert_eq!(
        audio.requests_of("stt").len() as i64,
        heard,
        "not transcribed"
    );
    assert_eq!(used_seconds(&pool, liar.user.id).await, 30);

    // Three quick 🔊 presses on a two-part answer: one speech call per part, one set of notes.
    let chat = Chat::new(&sys, 8203);
    chat.open_dialog().await;
    let reply = chat.turn("Tell me about your morning").await;
    let parts = split::sentences(&answer_for("Tell me about your morning"), 50);
    assert!(parts.len() >= 2, "{parts:?}");
    let speak = buttons_of(&reply)
        .into_iter()
        .find(|b| b.starts_with("vo:"))
        .expect("🔊 under the answer");
    let since = sys.tg.calls().len();
    for _ in 0..3 {
        chat.press(&reply, &speak).await;
    }
    wait_voices(&chat, since, parts.len()).await;
    settle(&sys).await;
    assert_eq!(audio.requests_of("tts").len(), parts.len(), "spoken once");
}
