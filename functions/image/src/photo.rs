//! Makes whatever the image API returned fit Telegram's `sendPhoto`: decoded with the `image`
//! crate (PNG, JPEG or WebP; a garbled or empty answer is caught here, not by Telegram); a PNG
//! or JPEG already within every limit is sent as it came (no second encoding); anything else is
//! cut to a side ratio of at most 20, shrunk so that width + height ≤ 10000 and no side passes
//! [`MAX_SIDE`], and encoded as PNG when that fits in 10 MB, else as JPEG at decreasing
//! quality (shrinking further if even that does not fit).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits, imageops::FilterType};

/// Largest side we send (a phone shows no more).
pub const MAX_SIDE: u32 = 2560;
/// Telegram: width + height at most this.
pub const MAX_SUM: u32 = 10_000;
/// Telegram: longer side at most this many times the shorter.
pub const MAX_RATIO: u32 = 20;
/// Telegram's photo upload limit.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Memory a decode may take (a 12000×12000 RGBA picture fits; a decompression bomb does not).
const MAX_DECODE_BYTES: u64 = 1 << 30;

/// A picture ready to upload.
#[derive(Debug)]
pub struct Prepared {
    /// Encoded bytes.
    pub bytes: Vec<u8>,
    /// JPEG (else PNG).
    pub jpeg: bool,
    /// Size sent.
    pub width: u32,
    /// Size sent.
    pub height: u32,
}

/// Why a picture could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Nothing came back.
    #[error("the image API sent an empty picture")]
    Empty,
    /// Not a picture we can read.
    #[error("undecodable image: {0}")]
    Decode(#[from] image::ImageError),
    /// Could not get under the size limit.
    #[error("image stays above {MAX_BYTES} bytes")]
    TooLarge,
}

/// Decodes, bounds and encodes for Telegram.
pub fn prepare(bytes: &[u8]) -> Result<Prepared, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(image::ImageError::IoError)?;
    let format = reader.format();
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    // Decoded whole even when sent as it came: a truncated or garbled picture fails here.
    let decoded = reader.decode()?;
    let (w, h) = (decoded.width(), decoded.height());
    let as_is = matches!(format, Some(ImageFormat::Png | ImageFormat::Jpeg))
        && bytes.len() <= MAX_BYTES
        && within_limits(w, h);
    if as_is {
        let jpeg = format == Some(ImageFormat::Jpeg);
        return Ok(Prepared {
            bytes: bytes.to_vec(),
            jpeg,
            width: w,
            height: h,
        });
    }
    let mut img = bounded(DynamicImage::ImageRgb8(decoded.to_rgb8()));
    for _ in 0..4 {
        let png = encode(&img, None)?;
        if png.len() <= MAX_BYTES {
            return Ok(done(png, false, &img));
        }
        for quality in [90, 80, 70, 60] {
            let jpeg = encode(&img, Some(quality))?;
            if jpeg.len() <= MAX_BYTES {
                return Ok(done(jpeg, true, &img));
            }
        }
        img = img.resize(
            img.width() * 3 / 4,
            img.height() * 3 / 4,
            FilterType::Triangle,
        );
    }
    Err(PhotoError::TooLarge)
}

fn done(bytes: Vec<u8>, jpeg: bool, img: &DynamicImage) -> Prepared {
    Prepared {
        bytes,
        jpeg,
        width: img.width(),
        height: img.height(),
    }
}

/// Whether Telegram takes a `w`×`h` picture as it is (and it is no larger than we send).
fn within_limits(w: u32, h: u32) -> bool {
    w.max(h) <= MAX_SIDE && w + h < MAX_SUM && w.max(h) <= w.min(h).saturating_mul(MAX_RATIO)
}

/// Cut to the ratio limit (keeping the middle), then shrunk to the side and sum limits.
fn bounded(mut img: DynamicImage) -> DynamicImage {
    let (w, h) = (img.width(), img.height());
    if w > h.saturating_mul(MAX_RATIO) {
        let keep = h * MAX_RATIO;
        img = img.crop_imm((w - keep) / 2, 0, keep, h);
    } else if h > w.saturating_mul(MAX_RATIO) {
        let keep = w * MAX_RATIO;
        img = img.crop_imm(0, (h - keep) / 2, w, keep);
    }
    let (w, h) = (img.width() as f64, img.height() as f64);
    let scale = (MAX_SIDE as f64 / w.max(h))
        .min((MAX_SUM - 1) as f64 / (w + h))
        .min(1.0);
    if scale < 1.0 {
        let (nw, nh) = (((w * scale) as u32).max(1), ((h * scale) as u32).max(1));
        img = img.resize_exact(nw, nh, FilterType::Triangle);
    }
    img
}

fn encode(img: &DynamicImage, jpeg_quality: Option<u8>) -> Result<Vec<u8>, PhotoError> {
    let mut out = Cursor::new(Vec::new());
    match jpeg_quality {
        None => img.write_to(&mut out, ImageFormat::Png)?,
        Some(q) => img.write_with_encoder(JpegEncoder::new_with_quality(&mut out, q))?,
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests;
