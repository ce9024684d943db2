//! Speaking an answer (🔊, or the "answer in voice" setting): the version's text cut at
//! sentence ends into pieces the speech API takes, each spoken (`/audio/speech`, Ogg/Opus) and
//! sent as a voice note, in order. Every version's notes are remembered (`voice_notes`, their
//! effects keep the Telegram `file_id`), so speaking it again sends them by file id without a
//! speech call. Audio that is not Ogg/Opus (a server ignoring `response_format`) cannot be
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
            speech: Speech::new(api, voice.timeout, voice.max_bytes)?,
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
                 AS file_ids
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
        let mut fresh = Vec::new();
        if found
            .parts
            .is_some_and(|n| n > 0 && cached.len() == n as usize)
        {
            for (i, file_id) in cached.iter().enumerate() {
                d.voice_by_id(part_id(env.id, i), job.chat_id, file_id);
            }
        } else {
            let voice = found.voice.filter(|v| !v.trim().is_empty());
            let voice = voice.as_deref().unwrap_or(&tts.default_voice);
            let mut parts = split::sentences(&text, tts.max_chars);
            parts.truncate(tts.max_parts);
            for (i, part) in parts.iter().enumerate() {
                let audio = tts.speech.speak(part, voice).await?;
                let opus = match ogg::check_opus(&audio) {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::warn!(job = %env.id, error = %e, "speech is not Ogg/Opus; sent as an audio file");
                        false
                    }
                };
                fresh.push(d.voice_as(part_id(env.id, i), job.chat_id, audio, opus));
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
