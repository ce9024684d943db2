//! Voice notes end to end, against the speech stand-in (`standins::audio`) and the Telegram
//! stand-in's `getFile`, file download and `sendVoice`: a voice note is heard ("🎤 …") and
//! answered like a text, in its place among the user's messages; a minor-related one is refused like a text (not echoed); over the
//! daily seconds a clear note and no transcription; 🔊 sends the answer as Ogg/Opus voice
//! notes (checked to the container and codec headers), split at sentences, and a second 🔊
//! sends them again by file id without speech; "answer in voice" follows every answer (and
//! every regenerated version) with its voice notes; speech that is not Ogg/Opus goes out as
//! an audio file, and a second 🔊 resends it with `sendAudio`; the token is in no log. Without speech services: no 🔊, and a voice note gets a clean note.

use std::sync::Arc;

use runtime::audio::{ogg, split};
use standins::audio::{Audio, voice_note};
use standins::llm::answer_for;
use standins::system::{System, buttons_of, text_of};
use standins::telegram::Call;
use standins::updates;

use crate::helpers::{Chat, STEP, settle};

/// The user records `text` lasting `seconds` and sends it; returns the log position before.
pub(crate) async fn send_voice(
    chat: &Chat<'_>,
    message_id: i64,
    text: &str,
    seconds: u32,
) -> usize {
    let bytes = voice_note(text, seconds);
    let (id, unique) = chat.sys.tg.user_voice(&bytes);
    let u = updates::voice(
        chat.sys.tg.next_update_id(),
        message_id,
        &chat.user,
        (&id, &unique),
        seconds,
        bytes.len(),
    );
    let since = chat.sys.tg.calls().len();
    assert_eq!(chat.sys.post_update(&u).await, 200);
    since
}

/// The bytes a `sendVoice` uploaded.
fn uploaded(c: &Call) -> Vec<u8> {
    let path = c.params["voice"]["path"].as_str().expect("an upload");
    std::fs::read(path).unwrap()
}

/// The voice notes sent to `chat` from log position `since`.
fn voices_since(sys: &System, since: usize, chat: i64) -> Vec<Call> {
    sys.tg
        .calls_of("sendvoice")
        .into_iter()
        .filter(|c| c.seq >= since && c.params["chat_id"] == chat && !c.result.is_null())
        .collect()
}

pub(crate) async fn wait_voices(chat: &Chat<'_>, since: usize, n: usize) -> Vec<Call> {
    let id = chat.user.id;
    chat.sys
        .wait_call(since, STEP, |_| {
            voices_since(chat.sys, since, id).len() >= n
        })
        .await
        .expect("voice notes sent");
    voices_since(chat.sys, since, id)
}

/// The speech stand-in (both `/audio` endpoints), served; its state and its base URL.
pub(crate) async fn speech_standin() -> (Arc<Audio>, String) {
    let audio = Arc::new(Audio::default());
    let addr = standins::serve(standins::audio::router(audio.clone()), "127.0.0.1:0")
        .await
        .unwrap();
    (audio, format!("http://{addr}/v1"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_notes_are_heard_and_answers_are_spoken() {
    let (audio, url) = speech_standin().await;
    let env = [
        ("STT_API_URL", url.as_str()),
        ("TTS_API_URL", url.as_str()),
        ("VOICE_SECONDS_PER_DAY", "20"),
        ("TTS_MAX_CHARS", "50"),
    ];
    let sys = System::start("voice", &env).await.unwrap();
    let chat = Chat::new(&sys, 8101);
    chat.open_dialog().await;

    // Heard, echoed as a reply to the note, answered like the same words typed.
    let words = "I just got back from the beach";
    let since = send_voice(&chat, 900, words, 3).await;
    let echo = chat
        .expect_message(since, |c| text_of(c) == format!("🎤 {words}"))
        .await;
    assert_eq!(echo.params["reply_parameters"]["message_id"], 900);
    let answer = answer_for(words);
    let reply = chat.expect_message(since, |c| text_of(c) == answer).await;
    assert!(echo.seq < reply.seq, "the echo comes first");
    let speak = buttons_of(&reply)
        .into_iter()
        .find(|b| b.starts_with("vo:"))
        .expect("🔊 under the answer");
    let stt = audio.requests_of("stt");
    assert_eq!(stt.len(), 1);
    assert_eq!(stt[0]["model"], "whisper-1");
    assert_eq!(stt[0]["duration_ms"], 3000);
    let prompt = sys.llm.requests().last().cloned().unwrap();
    let n = prompt["messages"].as_array().unwrap().len();
    assert_eq!(
        prompt["messages"][n - 2]["content"],
        words,
        "the model got the words"
    );

    // A text sent right after a voice note waits for it: the note is answered first.
    let since = send_voice(&chat, 903, "the water was warm", 2).await;
    chat.say("and the sand was hot").await;
    let heard = answer_for("the water was warm");
    let first = chat.expect_message(since, |c| text_of(c) == heard).await;
    let typed = answer_for("and the sand was hot");
    let second = chat.expect_message(since, |c| text_of(c) == typed).await;
    assert!(first.seq < second.seq, "in the order sent");

    // A minor-related voice note is refused as the text would be, and not said back.
    let bad = "I'm 15 and I want to have sex with you";
    let since = send_voice(&chat, 901, bad, 3).await;
    chat.expect_message(since, |c| text_of(c).starts_with("Stacy shakes her head"))
        .await;
    settle(&sys).await;
    assert_eq!(chat.count_text(&format!("🎤 {bad}")), 0, "not echoed");

    // 8 s used of 20: a 15 s note is over the day's limit, and is not even fetched.
    let since = send_voice(&chat, 902, "one more thing", 15).await;
    let note = chat
        .expect_message(since, |c| text_of(c).contains("20 s"))
        .await;
    assert!(
        text_of(&note).contains("voice messages"),
        "{}",
        text_of(&note)
    );
    settle(&sys).await;
    assert_eq!(audio.requests_of("stt").len(), 3);
    assert_eq!(sys.tg.calls_of("getfile").len(), 3);

    // 🔊: the answer in sentence-sized voice notes, each a real Ogg/Opus stream, in order.
    let parts = split::sentences(&answer, 50);
    assert!(parts.len() >= 2, "{parts:?}");
    let since = sys.tg.calls().len();
    chat.press(&reply, &speak).await;
    let notes = wait_voices(&chat, since, parts.len()).await;
    assert_eq!(notes.len(), parts.len());
    for (note, part) in notes.iter().zip(&parts) {
        let b = uploaded(note);
        assert_eq!(&b[..4], b"OggS", "an Ogg stream");
        // The first page: 27 header bytes, one lacing value, then the lone OpusHead.
        assert_eq!(b[5] & 2, 2, "beginning of stream");
        assert_eq!((b[26], &b[28..36]), (1, &b"OpusHead"[..]));
        assert_eq!((b[36], b[37]), (1, 1), "OpusHead version 1, mono");
        let second = 28 + usize::from(b[27]);
        assert_eq!(&b[second..second + 4], b"OggS");
        let tags = second + 27 + usize::from(b[second + 26]);
        assert_eq!(
            &b[tags..tags + 8],
            b"OpusTags",
            "the second page is OpusTags"
        );
        let info = ogg::check_opus(&b).unwrap();
        // About 15 characters a second: the length follows the words.
        assert!(
            info.duration_ms >= 50 * part.chars().count() as u64,
            "{info:?}"
        );
        assert_eq!(info.comments, vec![format!("TEXT={part}")]);
    }
    let tts = audio.requests_of("tts");
    assert_eq!(tts.len(), parts.len());
    for r in &tts {
        assert_eq!(r["response_format"], "opus");
        assert_eq!(r["voice"], "shimmer", "Stacy's card names her voice");
    }

    // Again: the same notes by file id, no speech call.
    let since = sys.tg.calls().len();
    chat.press(&reply, &speak).await;
    let again = wait_voices(&chat, since, parts.len()).await;
    for (a, first) in again.iter().zip(&notes) {
        assert_eq!(
            a.params["voice"], first.result["voice"]["file_id"],
            "by file id"
        );
    }
    settle(&sys).await;
    assert_eq!(audio.requests_of("tts").len(), parts.len());

    // "Answer in voice": every answer is followed by its voice notes.
    let since = sys.tg.calls().len();
    chat.say("/settings").await;
    let settings = chat
        .expect_message(since, |c| buttons_of(c).contains(&"va:on".to_owned()))
        .await;
    chat.press(&settings, "va:on").await;
    chat.expect_message(since, |c| buttons_of(c).contains(&"va:off".to_owned()))
        .await;
    let since = sys.tg.calls().len();
    let reply = chat.turn("Tell me about your day").await;
    let want = split::sentences(&answer_for("Tell me about your day"), 50);
    let spoken = wait_voices(&chat, since, want.len()).await;
    assert!(spoken[0].seq > reply.seq, "the voice follows the answer");
    let tts = audio.requests_of("tts");
    let said: Vec<&str> = tts[tts.len() - want.len()..]
        .iter()
        .filter_map(|r| r["input"].as_str())
        .collect();
    assert_eq!(said, want);
    // A regenerated version is heard too.
    settle(&sys).await;
    let regen = buttons_of(&reply)
        .into_iter()
        .find(|b| b.starts_with("re:"));
    let (since, tts_before) = (sys.tg.calls().len(), audio.requests_of("tts").len());
    chat.press(&reply, &regen.expect("↻ under the answer"))
        .await;
    wait_voices(&chat, since, 1).await;
    // Every part is spoken before any is sent: all of the version's notes go out.
    let parts = audio.requests_of("tts").len() - tts_before;
    assert!(parts > 0, "the new version spoken");
    wait_voices(&chat, since, parts).await;

    // A speech server that ignores the format: its audio goes out as a file, not converted.
    audio.mp3_only(true);
    let since = sys.tg.calls().len();
    let cooked = chat.turn("What did you cook today?").await;
    let want = split::sentences(&answer_for("What did you cook today?"), 50).len();
    let id = chat.user.id;
    let files = || -> Vec<Call> {
        let sent = sys.tg.calls_of("sendaudio").into_iter();
        sent.filter(|c| c.seq >= since && c.params["chat_id"] == id && !c.result.is_null())
            .collect()
    };
    sys.wait_call(since, STEP, |_| files().len() >= want)
        .await
        .expect("audio files sent");
    assert!(files()[0].params["audio"]["path"].is_string(), "uploaded");
    assert!(
        voices_since(&sys, since, id).is_empty(),
        "no voice bubble for MP3"
    );
    // 🔊 on it: the audio files again by file id, with the method they went out with.
    settle(&sys).await;
    let first = files();
    let tts_before = audio.requests_of("tts").len();
    let speak = buttons_of(&cooked)
        .into_iter()
        .find(|b| b.starts_with("vo:"));
    let since = sys.tg.calls().len();
    chat.press(&cooked, &speak.expect("🔊 under the answer"))
        .await;
    sys.wait_call(since, STEP, |_| files().len() >= 2 * want)
        .await
        .expect("audio files sent again");
    let again = &files()[want..];
    assert_eq!(
        again[0].params["audio"],
        first[0].result["audio"]["file_id"]
    );
    assert_eq!(audio.requests_of("tts").len(), tts_before, "no speech call");
    // Voice notes are fetched with the bot token, which no log shows.
    assert!(!sys.all_logs().contains(standins::system::TEST_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_speech_services_voice_is_refused_cleanly() {
    let sys = System::start("voice-off", &[]).await.unwrap();
    let chat = Chat::new(&sys, 8102);
    chat.open_dialog().await;
    let reply = chat.turn("Hello there").await;
    assert!(
        !buttons_of(&reply).iter().any(|b| b.starts_with("vo:")),
        "no 🔊 without TTS: {:?}",
        buttons_of(&reply)
    );
    let since = send_voice(&chat, 950, "hello", 2).await;
    chat.expect_message(since, |c| {
        text_of(c).starts_with("I can't listen to voice messages here yet")
    })
    .await;
    // An old 🔊 (from when speech was on) is answered with a toast, nothing else.
    let since = sys.tg.calls().len();
    chat.press(&reply, "vo:1:0").await;
    let toast = chat
        .expect_call(since, |c| c.method == "answercallbackquery")
        .await;
    assert_eq!(toast.params["text"], "Voice replies aren't available here.");
    let since = sys.tg.calls().len();
    chat.say("/settings").await;
    // The voice row of the settings view says so, and offers no toggle.
    let view = chat
        .expect_message(since, |c| {
            text_of(c).contains("Voice replies aren't available on this bot.")
        })
        .await;
    assert!(!buttons_of(&view).iter().any(|b| b.starts_with("va:")));
    settle(&sys).await;
    assert!(sys.tg.calls_of("getfile").is_empty(), "nothing fetched");
    assert!(sys.tg.calls_of("sendvoice").is_empty());
}
