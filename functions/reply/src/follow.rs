//! What a new answer queues in its own commit, besides the messages that carry it: the rolling
//! summary and a memory extraction when they are due, and its voice notes when the user wants
//! answers in voice.

/// Queues the jobs a new answer brings, in its own commit: the rolling summary and a memory
/// extraction when they are due, and its voice notes when the user wants answers in voice.
pub fn follow_ups(
    d: &mut runtime::effects::Decision,
    env: &runtime::envelope::Envelope<companion::jobs::ReplyJob>,
    (summary_due, memory_due): (Option<i64>, Option<i64>),
    in_voice: bool,
) {
    use runtime::nats::topology::REPLY_SUBJECT;
    if let Some(upto) = summary_due {
        d.job(REPLY_SUBJECT, &crate::summary::job(env, upto));
    }
    if let Some(upto) = memory_due {
        d.job(REPLY_SUBJECT, &crate::memory::job(env, upto));
    }
    if in_voice {
        let speak = Some(companion::jobs::Speak {
            answer_id: None,
            index: 0,
        });
        let job = companion::jobs::ReplyJob {
            speak,
            ..env.payload.clone()
        };
        let spoken = runtime::envelope::Envelope::new(env.trace_id.clone(), job);
        d.job(REPLY_SUBJECT, &spoken);
    }
}
