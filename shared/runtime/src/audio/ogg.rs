//! Ogg/Opus, as far as the bot needs it: reading a stream's pages (capture pattern, version,
//! CRC), its packets, and checking that it is what Telegram shows as a voice bubble — an Ogg
//! stream whose first page is a lone `OpusHead` and whose second packet, on the next page, is
//! `OpusTags` — with its duration from the last granule position. And writing one (the audio
//! stand-in speaks with it; the checks are tested against it).

/// Why bytes are not a voice note.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OggError {
    /// Not an Ogg stream, or a page is cut or damaged.
    #[error("not an Ogg stream: {0}")]
    NotOgg(&'static str),
    /// An Ogg stream, but not Opus as RFC 7845 lays it out.
    #[error("not Ogg/Opus: {0}")]
    NotOpus(&'static str),
}

/// What the `OpusHead` of a stream says, and how long it plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusInfo {
    /// `OpusHead` version (1).
    pub version: u8,
    /// Channel count.
    pub channels: u8,
    /// Samples (at 48 kHz) to drop at the start.
    pub pre_skip: u16,
    /// Playing time in milliseconds (last granule position less the pre-skip).
    pub duration_ms: u64,
    /// The `OpusTags` comments (`KEY=value`).
    pub comments: Vec<String>,
}

/// One Ogg page.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// Header flags: 1 continued packet, 2 first page, 4 last page.
    pub flags: u8,
    /// Granule position (for Opus: samples at 48 kHz up to the end of this page).
    pub granule: i64,
    /// The lacing values.
    pub segments: &'a [u8],
    /// The page's data.
    pub data: &'a [u8],
}

/// The pages of `bytes`, each checked (capture pattern, version 0, length, CRC).
pub fn pages(mut bytes: &[u8]) -> Result<Vec<Page<'_>>, OggError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 27 || &bytes[..4] != b"OggS" {
            return Err(OggError::NotOgg("no OggS capture pattern"));
        }
        if bytes[4] != 0 {
            return Err(OggError::NotOgg("unknown Ogg version"));
        }
        let n = usize::from(bytes[26]);
        let head = 27 + n;
        let segments = bytes.get(27..head).ok_or(OggError::NotOgg("cut page"))?;
        let len = head + segments.iter().map(|s| usize::from(*s)).sum::<usize>();
        let page = bytes.get(..len).ok_or(OggError::NotOgg("cut page"))?;
        let stored = u32::from_le_bytes([page[22], page[23], page[24], page[25]]);
        if crc(page) != stored {
            return Err(OggError::NotOgg("page CRC mismatch"));
        }
        let granule = i64::from_le_bytes(page[6..14].try_into().expect("8 bytes"));
        out.push(Page {
            flags: page[5],
            granule,
            segments,
            data: &page[head..],
        });
        bytes = &bytes[len..];
    }
    Ok(out)
}

/// The packets of `pages`, with the index of the page each ends on.
pub fn packets(pages: &[Page<'_>]) -> Vec<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let mut at = 0;
        for &lace in page.segments {
            let end = (at + usize::from(lace)).min(page.data.len());
            current.extend_from_slice(&page.data[at..end]);
            at = end;
            if lace < 255 {
                out.push((std::mem::take(&mut current), i));
            }
        }
    }
    out
}

/// Checks that `bytes` is an Ogg/Opus stream Telegram shows as a voice note.
pub fn check_opus(bytes: &[u8]) -> Result<OpusInfo, OggError> {
    let pages = pages(bytes)?;
    let first = pages.first().ok_or(OggError::NotOgg("empty"))?;
    if first.flags & 2 == 0 {
        return Err(OggError::NotOgg("first page is not a beginning of stream"));
    }
    let packets = packets(&pages);
    let (head, head_page) = packets.first().ok_or(OggError::NotOpus("no packet"))?;
    if *head_page != 0 || first.segments.iter().filter(|s| **s < 255).count() != 1 {
        return Err(OggError::NotOpus("OpusHead is not alone on the first page"));
    }
    if head.len() < 19 || &head[..8] != b"OpusHead" {
        return Err(OggError::NotOpus("first packet is not OpusHead"));
    }
    let (version, channels) = (head[8], head[9]);
    if version != 1 {
        return Err(OggError::NotOpus("OpusHead version is not 1"));
    }
    if channels == 0 || (head[18] == 0 && channels > 2) {
        return Err(OggError::NotOpus("bad channel count"));
    }
    let pre_skip = u16::from_le_bytes([head[10], head[11]]);
    let (tags, tags_page) = packets.get(1).ok_or(OggError::NotOpus("no OpusTags"))?;
    if tags.len() < 16 || &tags[..8] != b"OpusTags" || *tags_page < 1 {
        return Err(OggError::NotOpus(
            "second packet is not OpusTags on its own page",
        ));
    }
    let comments = read_tags(&tags[8..]).ok_or(OggError::NotOpus("damaged OpusTags"))?;
    let last = pages.last().map_or(0, |p| p.granule).max(0) as u64;
    Ok(OpusInfo {
        version,
        channels,
        pre_skip,
        duration_ms: last.saturating_sub(u64::from(pre_skip)) / 48,
        comments,
    })
}

/// The comments of an `OpusTags` body (after the magic): vendor string, then the list.
fn read_tags(b: &[u8]) -> Option<Vec<String>> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = b.get(at..at.checked_add(n)?)?;
        at += n;
        Some(s)
    };
    let len = |s: &[u8]| u32::from_le_bytes(s.try_into().expect("4 bytes")) as usize;
    let vendor = len(take(4)?);
    take(vendor)?;
    let count = len(take(4)?);
    let mut out = Vec::new();
    for _ in 0..count.min(1024) {
        let n = len(take(4)?);
        out.push(String::from_utf8_lossy(take(n)?).into_owned());
    }
    Some(out)
}

/// A mono Ogg/Opus stream: `OpusHead`, `OpusTags` with `comments`, then `frames` 20 ms
/// packets (each the given Opus packet; `[0xF8, 0xFF, 0xFE]` is a CELT silence frame).
pub fn write_opus(comments: &[String], frames: usize, packet: &[u8]) -> Vec<u8> {
    const PRE_SKIP: u16 = 312;
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, 1]);
    head.extend_from_slice(&PRE_SKIP.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&[0, 0, 0]);
    let mut tags = b"OpusTags".to_vec();
    let vendor = b"companion";
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in comments {
        tags.extend_from_slice(&(c.len() as u32).to_le_bytes());
        tags.extend_from_slice(c.as_bytes());
    }
    let serial = 0x0C0F_FEE0;
    let mut out = page(2, 0, serial, 0, &[&head]);
    out.extend(page(0, 0, serial, 1, &[&tags]));
    let mut granule = i64::from(PRE_SKIP);
    let frames = frames.max(1);
    let chunks: Vec<usize> = (0..frames).step_by(50).collect();
    for (seq, (i, start)) in (2..).zip(chunks.iter().enumerate()) {
        let n = (frames - start).min(50);
        granule += 960 * n as i64;
        let flags = if i + 1 == chunks.len() { 4 } else { 0 };
        let packets: Vec<&[u8]> = vec![packet; n];
        out.extend(page(flags, granule, serial, seq, &packets));
    }
    out
}

/// One page holding whole `packets` (each under 255 × 255 bytes in all).
fn page(flags: u8, granule: i64, serial: u32, seq: u32, packets: &[&[u8]]) -> Vec<u8> {
    let mut lacing = Vec::new();
    let mut data = Vec::new();
    for p in packets {
        let mut left = p.len();
        while left >= 255 {
            lacing.push(255u8);
            left -= 255;
        }
        lacing.push(left as u8);
        data.extend_from_slice(p);
    }
    let mut out = b"OggS".to_vec();
    out.push(0);
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(lacing.len() as u8);
    out.extend_from_slice(&lacing);
    out.extend_from_slice(&data);
    let c = crc(&out);
    out[22..26].copy_from_slice(&c.to_le_bytes());
    out
}

/// Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, initial 0), with the CRC field zero.
fn crc(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for (i, &b) in page.iter().enumerate() {
        let b = if (22..26).contains(&i) { 0 } else { b };
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    const SILENCE: [u8; 3] = [0xF8, 0xFF, 0xFE];

    #[test]
    fn a_written_stream_reads_back_as_opus_with_its_tags_and_length() {
        let bytes = write_opus(&["TEXT=hello there".to_owned()], 120, &SILENCE);
        assert_eq!(&bytes[..4], b"OggS");
        let info = check_opus(&bytes).unwrap();
        assert_eq!((info.version, info.channels, info.pre_skip), (1, 1, 312));
        assert_eq!(info.duration_ms, 2400);
        assert_eq!(info.comments, vec!["TEXT=hello there".to_owned()]);
        assert!(pages(&bytes).unwrap().last().unwrap().flags & 4 != 0);
    }

    #[test]
    fn the_crc_is_oggs_own() {
        // CRC-32/CKSUM's catalogued check value without its final inversion: the same
        // polynomial, not reflected, initial 0, as libogg computes page CRCs.
        assert_eq!(crc(b"123456789"), 0x765E_7680 ^ 0xFFFF_FFFF);
    }

    #[test]
    fn other_audio_and_damaged_streams_are_refused() {
        assert_eq!(
            check_opus(b"ID3\x04rest"),
            Err(OggError::NotOgg("no OggS capture pattern"))
        );
        assert!(check_opus(b"").is_err());
        let good = write_opus(&[], 10, &SILENCE);
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            check_opus(&flipped),
            Err(OggError::NotOgg("page CRC mismatch"))
        );
        assert!(check_opus(&good[..good.len() - 2]).is_err());
        // A Vorbis stream in Ogg: an Ogg stream, not Opus.
        let vorbis = page(
            2,
            0,
            1,
            0,
            &[b"\x01vorbis\x00\x00\x00\x00\x01\x44\xac\x00\x00"],
        );
        assert!(matches!(check_opus(&vorbis), Err(OggError::NotOpus(_))));
    }
}
