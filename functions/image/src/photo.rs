//! Makes whatever the image API returned fit Telegram: decoded with the `image` crate (so a
//! garbled answer is caught here, not by Telegram), shrunk when a side exceeds the limit,
//! and re-encoded as PNG under the 10 MB upload limit.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, imageops::FilterType};

/// Largest side we send.
pub const MAX_SIDE: u32 = 2048;
/// Telegram's photo upload limit.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// Why a picture could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Not a picture we can read.
    #[error("undecodable image: {0}")]
    Decode(#[from] image::ImageError),
    /// Could not get under the size limit.
    #[error("image stays above {MAX_BYTES} bytes")]
    TooLarge,
}

/// Decodes, bounds and re-encodes as PNG.
pub fn to_telegram_png(bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let mut img = image::load_from_memory(bytes)?;
    if img.width().max(img.height()) > MAX_SIDE {
        img = img.resize(MAX_SIDE, MAX_SIDE, FilterType::Lanczos3);
    }
    for _ in 0..4 {
        let png = encode(&img)?;
        if png.len() <= MAX_BYTES {
            return Ok(png);
        }
        img = img.resize(
            img.width() * 3 / 4,
            img.height() * 3 / 4,
            FilterType::Triangle,
        );
    }
    Err(PhotoError::TooLarge)
}

fn encode(img: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.to_rgb8()).write_to(&mut out, ImageFormat::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([x as u8, y as u8, 90])
        }));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn jpeg_becomes_png_and_large_sides_shrink() {
        let png = to_telegram_png(&jpeg(3000, 1000)).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let back = image::load_from_memory(&png).unwrap();
        assert_eq!((back.width(), back.height()), (2048, 683));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            to_telegram_png(b"not an image"),
            Err(PhotoError::Decode(_))
        ));
    }
}
