//! Character cards inside PNG files, as SillyTavern and the card specs store them: a `tEXt`
//! chunk whose text is base64 of the card's UTF-8 JSON, keyword `chara` (V2) or `ccv3` (V3).
//! Reading prefers `ccv3` when both are present (keywords compared case-insensitively);
//! writing replaces any old card chunks with both, just before `IEND`; an avatar is kept
//! without them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// A PNG that cannot carry or give a card.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PngCardError {
    /// Not a PNG, or cut short.
    #[error("not a valid PNG file: {0}")]
    NotPng(&'static str),
    /// No `chara` or `ccv3` text chunk.
    #[error("the PNG holds no character card (no `chara` or `ccv3` tEXt chunk)")]
    NoCard,
    /// The chunk is not base64.
    #[error("the `{0}` chunk is not valid base64")]
    Base64(String),
}

struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// The whole chunk: length, type, data and CRC.
    raw: &'a [u8],
}

fn chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>, PngCardError> {
    if png.len() < 8 || &png[..8] != SIGNATURE {
        return Err(PngCardError::NotPng("no PNG signature"));
    }
    let mut out = Vec::new();
    let mut at = 8;
    while at < png.len() {
        let head = png
            .get(at..at + 8)
            .ok_or(PngCardError::NotPng("truncated chunk header"))?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let end = at + 12 + len;
        let raw = png
            .get(at..end)
            .ok_or(PngCardError::NotPng("truncated chunk"))?;
        let kind = [head[4], head[5], head[6], head[7]];
        out.push(Chunk {
            kind,
            data: &raw[8..8 + len],
            raw,
        });
        at = end;
        if &kind == b"IEND" {
            return Ok(out);
        }
    }
    Err(PngCardError::NotPng("no IEND chunk"))
}

/// The `(keyword, text)` of a `tEXt` chunk.
fn text<'a>(chunk: &Chunk<'a>) -> Option<(String, &'a [u8])> {
    if &chunk.kind != b"tEXt" {
        return None;
    }
    let nul = chunk.data.iter().position(|&b| b == 0)?;
    let keyword = String::from_utf8_lossy(&chunk.data[..nul]).to_ascii_lowercase();
    Some((keyword, &chunk.data[nul + 1..]))
}

/// The card JSON embedded in `png` (`ccv3` preferred over `chara`; a `ccv3` chunk that
/// cannot be decoded gives way to a good `chara` one).
pub fn read_card(png: &[u8]) -> Result<Vec<u8>, PngCardError> {
    match read_chunk(png, "ccv3") {
        Ok(Some(card)) => Ok(card),
        Ok(None) => read_chunk(png, "chara")?.ok_or(PngCardError::NoCard),
        Err(bad) => read_chunk(png, "chara").ok().flatten().ok_or(bad),
    }
}

/// The card JSON of one chunk (`chara` or `ccv3`), when `png` has it.
pub fn read_chunk(png: &[u8], keyword: &str) -> Result<Option<Vec<u8>>, PngCardError> {
    let all = chunks(png)?;
    let Some((_, b64)) = all.iter().filter_map(text).find(|(k, _)| k == keyword) else {
        return Ok(None);
    };
    let clean: Vec<u8> = b64
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(clean)
        .map(Some)
        .map_err(|_| PngCardError::Base64(keyword.to_owned()))
}

/// `png` without card chunks: the picture alone.
pub fn strip_card(png: &[u8]) -> Result<Vec<u8>, PngCardError> {
    let all = chunks(png)?;
    let mut out = Vec::with_capacity(png.len());
    out.extend_from_slice(SIGNATURE);
    for c in &all {
        if !text(c).is_some_and(|(k, _)| k == "chara" || k == "ccv3") {
            out.extend_from_slice(c.raw);
        }
    }
    Ok(out)
}

/// `png` with its old card chunks removed and `chara` (`v2` JSON) and `ccv3` (`v3` JSON)
/// inserted just before `IEND`.
pub fn write_card(png: &[u8], v2: &[u8], v3: &[u8]) -> Result<Vec<u8>, PngCardError> {
    let all = chunks(png)?;
    let mut out = Vec::with_capacity(png.len() + (v2.len() + v3.len()) * 4 / 3 + 64);
    out.extend_from_slice(SIGNATURE);
    for c in &all {
        if &c.kind == b"IEND" {
            push_text(&mut out, "chara", &STANDARD.encode(v2));
            push_text(&mut out, "ccv3", &STANDARD.encode(v3));
        }
        let is_card = text(c).is_some_and(|(k, _)| k == "chara" || k == "ccv3");
        if !is_card {
            out.extend_from_slice(c.raw);
        }
    }
    Ok(out)
}

fn push_text(out: &mut Vec<u8>, keyword: &str, text: &str) {
    let mut body = Vec::with_capacity(4 + keyword.len() + 1 + text.len());
    body.extend_from_slice(b"tEXt");
    body.extend_from_slice(keyword.as_bytes());
    body.push(0);
    body.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&((body.len() - 4) as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 PNG made by the image crate.
    fn tiny_png() -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(1, 1, image::Rgba([200, 100, 50, 255]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn written_card_reads_back_and_the_image_still_decodes() {
        let png = write_card(&tiny_png(), br#"{"v":2}"#, br#"{"v":3}"#).unwrap();
        assert_eq!(read_card(&png).unwrap(), br#"{"v":3}"#, "ccv3 is preferred");
        let again = write_card(&png, br#"{"v":22}"#, br#"{"v":33}"#).unwrap();
        let cards = chunks(&again).unwrap().iter().filter_map(text).count();
        assert_eq!(cards, 2, "old card chunks are replaced, not added to");
        assert_eq!(
            read_chunk(&again, "chara").unwrap().unwrap(),
            br#"{"v":22}"#
        );
        let bare = strip_card(&again).unwrap();
        assert_eq!(read_card(&bare), Err(PngCardError::NoCard));
        assert_eq!(bare, tiny_png(), "the picture is what it was");
        assert!(
            image::load_from_memory(&again).is_ok(),
            "CRCs and layout are valid"
        );
    }

    #[test]
    fn chara_alone_is_read_and_keywords_ignore_case() {
        let mut png = tiny_png();
        let iend = png.len() - 12;
        let mut chunk = Vec::new();
        push_text(&mut chunk, "Chara", &STANDARD.encode(br#"{"v":2}"#));
        png.splice(iend..iend, chunk);
        assert_eq!(read_card(&png).unwrap(), br#"{"v":2}"#);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert_eq!(
            read_card(b"GIF89a"),
            Err(PngCardError::NotPng("no PNG signature"))
        );
        assert_eq!(read_card(&tiny_png()), Err(PngCardError::NoCard));
        let png = tiny_png();
        assert!(matches!(
            read_card(&png[..png.len() - 5]),
            Err(PngCardError::NotPng(_))
        ));
    }
}
