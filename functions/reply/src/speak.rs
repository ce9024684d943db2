//! Speaking an answer (🔊, or the "answer in voice" setting): the version's text cut at
//! sentence ends into pieces the speech API takes, each spoken (`/audio/speech`, Ogg/Opus) and
//! sent as a voice note, in order. Every version's notes are remembered (`voice_notes`, their
//! effects keep the Telegram `file_id`), so speaking it again sends them by file id without a
//! speech call (with the method it went out with: a voice note's or an audio file's). The
//! first 🔊 on a version claims it (`voice_speaking`): presses while it is being spoken, or
//! before Telegram has taken its notes, collapse into that one run. Audio that is not Ogg/Opus (a server ignoring `response_format`) cannot be
//! converted here (no Opus encoder builds on these machines: libopus needs a C toolchain and
//! its headers), so it goes out as an audio file (`sendAudio`) and the mismatch is logged.

use companion::jobs::{ReplyJob, Speak};
use runtime::HandlerError;
use runtime::audio::{Speech, VoiceSettings, ogg, split};
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use sqlx::PgPool;
use uuid::Uuid;

use crate::Reply;

/// Largest spoken piece accepted: sized for speech (MP3 of `TTS_MAX_CHARS` characters can pass
/// a megabyte), not for the voice notes users send (`VOICE_MAX_BYTES`); well within Telegram's
/// 50 MB upload.
const SPEECH_MAX_BYTES: usize = 8 << 20;

/// Text to speech, when configured.
pub struct Tts {
    speech: Speech,
    default_voice: String,
    max_chars: usize,
    max_parts: usize,
}

impl Tts {
    /// The speaker of `voice`, or `None` when `TTS_API_URL` is not set.
    pub fn new(voice: &VoiceSettings) -> Result<Option<Self>, String> {
        let Some(api) = voice.tts.clone() else {
            return Ok(None);
        };
        Ok(Some(Self {
            speech: Speech::new(api, voice.timeout, SPEECH_MAX_BYTES)?,
            default_voice: voice.default_voice.clone(),
            max_chars: voice.tts_max_chars,
            max_parts: voice.tts_max_parts,
        }))
    }
}

/// The effect id of voice note `part` of job `job`: derived, so a redelivery writes the same.
fn part_id(job: Uuid, part: usize) -> Uuid {
    Uuid::from_u128(job.as_u128() ^ (0x564f_4943_4500 + part as u128))
}

/// What speaking a version needs, read in one statement.
#[derive(Debug, sqlx::FromRow)]
struct Spoken {
    /// This job's notes are stored (a redelivery).
    done: bool,
    /// The answer; `None` when it is gone.
    answer_id: Option<i64>,
    /// The version's text.
    text: Option<String>,
    /// The persona's voice (`extensions.companion.voice`).
    voice: Option<String>,
    /// How many notes the version was spoken in before, and the file ids known of them.
    parts: Option<i16>,
    file_ids: Option<Vec<String>>,
    /// Whether each of those went out as an audio file (`sendAudio`).
    audio: Option<Vec<bool>>,
}

/// How long a claim on a version being spoken holds before another press may take it over (a
/// job that died mid-way).
const CLAIM_SECS: f64 = 600.0;

/// Claims version `variant` of answer `answer_id` for job `job`: `false` when another job is
/// speaking it (or spoke it and Telegram has not taken the notes yet).
async fn claim(pool: &PgPool, answer_id: i64, variant: i16, job: Uuid) -> sqlx::Result<bool> {
    let claimed: Option<(i32,)> = sqlx::query_as(
        "INSERT INTO voice_speaking (answer_id, variant, job_id) VALUES ($1, $2, $3)
         ON CONFLICT (answer_id, variant) DO UPDATE SET job_id = $3, claimed_at = now()
         WHERE voice_speaking.job_id = $3
            OR voice_speaking.claimed_at < now() - make_interval(secs => $4)
         RETURNING 1",
    )
    .bind(answer_id)
    .bind(variant)
    .bind(job)
    .bind(CLAIM_SECS)
    .fetch_optional(pool)
    .await?;
    Ok(claimed.is_some())
}

/// Lets go of job `job`'s claim (it failed: the next press may speak the version).
async fn release(pool: &PgPool, answer_id: i64, variant: i16, job: Uuid) {
    let r = sqlx::query(
        "DELETE FROM voice_speaking WHERE answer_id = $1 AND variant = $2 AND job_id = $3",
    )
    .bind(answer_id)
    .bind(variant)
    .bind(job)
    .execute(pool)
    .await;
    if let Err(e) = r {
        tracing::warn!(error = %e, "a speaking claim not released (it lapses)");
    }
}

async fn spoken(pool: &PgPool, id: Uuid, job: &ReplyJob, s: &Speak) -> sqlx::Result<Spoken> {
    sqlx::query_as(
        "WITH received AS (
             UPDATE outbox SET published_at = now() WHERE job_id = $1 AND published_at IS NULL),
         a AS (SELECT m.id, COALESCE(m.variants[$4 + 1], CASE WHEN $4 = 0 THEN m.content END)
                      AS text, g.card #>> '{data,extensions,companion,voice}' AS voice
               FROM chat_messages m JOIN dialogs d ON d.id = m.dialog_id
               JOIN girls g ON g.id = d.girl_id
               WHERE d.id = $2 AND d.user_id = $5 AND m.role = 'assistant'
                 AND (m.id = $3 OR ($3::bigint IS NULL AND m.reply_to = $6))
               ORDER BY m.id DESC LIMIT 1)
         SELECT EXISTS (SELECT 1 FROM effects WHERE id = $7) AS done, a.id AS answer_id,
                a.text, a.voice,
                (SELECT max(n.parts) FROM voice_notes n
                 WHERE n.answer_id = a.id AND n.variant = $4) AS parts,
                (SELECT array_agg(e.telegram_file_id ORDER BY n.part) FROM voice_notes n
                 JOIN effects e ON e.id = n.effect_id
                 WHERE n.answer_id = a.id AND n.variant = $4 AND e.telegram_file_id IS NOT NULL)
                 AS file_ids,
                (SELECT array_agg(e.method = 'sendAudio' ORDER BY n.part) FROM voice_notes n
                 JOIN effects e ON e.id = n.effect_id
                 WHERE n.answer_id = a.id AND n.variant = $4 AND e.telegram_file_id IS NOT NULL)
                 AS audio
         FROM (SELECT 1) x LEFT JOIN a ON true",
    )
    .bind(id)
    .bind(job.dialog_id)
    .bind(s.answer_id)
    .bind(s.index)
    .bind(job.user_id)
    .bind(job.user_message_id)
    .bind(part_id(id, 0))
    .fetch_one(pool)
    .await
}

impl Reply {
    /// Speaks version `s` of an answer as voice notes.
    pub(crate) async fn speak(
        &self,
        env: &Envelope<ReplyJob>,
        s: &Speak,
    ) -> Result<(), HandlerError> {
        let job = &env.payload;
        let pool = &self.deps.pool;
        let found = spoken(pool, env.id, job, s).await?;
        if found.done {
            return self.deps.outbox.republish(&env.id.to_string()).await;
        }
        let (Some(tts), Some(answer_id), Some(text)) = (&self.tts, found.answer_id, found.text)
        else {
            tracing::info!(job = %env.id, "nothing to speak (no speech, or the answer is gone)");
            return Ok(());
        };
        let mut d = Decision::new(env.id.to_string(), env.trace_id.clone());
        let cached = found.file_ids.unwrap_or_default();
        let audio = found.audio.unwrap_or_default();
        let mut fresh = Vec::new();
        if found
            .parts
            .is_some_and(|n| n > 0 && cached.len() == n as usize)
        {
            for (i, file_id) in cached.iter().enumerate() {
                let as_audio = audio.get(i).copied().unwrap_or(false);
                d.voice_by_id(part_id(env.id, i), job.chat_id, file_id, as_audio);
            }
        } else {
            if !claim(pool, answer_id, s.index, env.id).await? {
                tracing::info!(job = %env.id, "this version is being spoken already");
                return Ok(());
            }
            let voice = found.voice.filter(|v| !v.trim().is_empty());
            let voice = voice.as_deref().unwrap_or(&tts.default_voice);
            match self.say(tts, env, &text, voice, &mut d).await {
                Ok(ids) => fresh = ids,
                Err(e) => {
                    release(pool, answer_id, s.index, env.id).await;
                    return Err(e);
                }
            }
        }
        d.completes(env.id);
        let mut tx = pool.begin().await?;
        for (i, effect) in fresh.iter().enumerate() {
            sqlx::query(
                "INSERT INTO voice_notes (answer_id, variant, part, parts, effect_id)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (answer_id, variant, part)
                 DO UPDATE SET parts = $4, effect_id = $5",
            )
            .bind(answer_id)
            .bind(s.index)
            .bind(i as i16)
            .bind(fresh.len() as i16)
            .bind(effect)
            .execute(&mut *tx)
            .await?;
        }
        let committed = d.commit(tx).await?;
        self.deps.outbox.publish(committed).await
    }
}

impl Reply {
    /// Speaks `text` in `voice`, part by part, into `d`: the parts' effect ids.
    async fn say(
        &self,
        tts: &Tts,
        env: &Envelope<ReplyJob>,
        text: &str,
        voice: &str,
        d: &mut Decision,
    ) -> Result<Vec<Uuid>, HandlerError> {
        let mut parts = split::sentences(text, tts.max_chars);
        if parts.len() > tts.max_parts {
            tracing::info!(job = %env.id, parts = parts.len(), "answer spoken only in part");
        }
        parts.truncate(tts.max_parts);
        let mut fresh = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let audio = tts.speech.speak(part, voice).await?;
            let opus = match ogg::check_opus(&audio) {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(job = %env.id, error = %e, "speech is not Ogg/Opus; sent as an audio file");
                    false
                }
            };
            fresh.push(d.voice_as(part_id(env.id, i), env.payload.chat_id, audio, opus));
        }
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_ids_differ_by_part_and_job_and_never_equal_the_job() {
        let job = Uuid::new_v4();
        assert_ne!(part_id(job, 0), part_id(job, 1));
        assert_ne!(part_id(job, 0), job);
        assert_eq!(part_id(job, 2), part_id(job, 2));
        assert_ne!(part_id(job, 0), part_id(Uuid::new_v4(), 0));
    }
}
