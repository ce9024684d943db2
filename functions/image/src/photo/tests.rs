//! Image preparation: formats in, limits out.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};

use super::*;

fn encoded(img: RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
}

#[test]
fn a_png_within_limits_goes_as_it_came_and_jpeg_and_webp_are_read() {
    let png = encoded(gradient(512, 768), ImageFormat::Png);
    let p = prepare(&png).unwrap();
    assert!(!p.jpeg && (p.width, p.height) == (512, 768));
    assert_eq!(p.bytes, png, "not encoded twice");
    assert!(prepare(&encoded(gradient(300, 200), ImageFormat::Jpeg)).is_ok());
    let webp = prepare(&encoded(gradient(64, 32), ImageFormat::WebP)).unwrap();
    assert_eq!((webp.width, webp.height), (64, 32));
}

#[test]
fn a_huge_picture_shrinks_within_every_limit() {
    let p = prepare(&encoded(gradient(12_000, 12_000), ImageFormat::Png)).unwrap();
    assert!(p.width <= MAX_SIDE && p.height <= MAX_SIDE && p.width + p.height <= MAX_SUM);
    assert!(p.bytes.len() <= MAX_BYTES);
    let back = image::load_from_memory(&p.bytes).unwrap();
    assert_eq!((back.width(), back.height()), (p.width, p.height));
}

#[test]
fn a_thin_strip_is_cut_to_the_ratio_limit() {
    let p = prepare(&encoded(gradient(4000, 100), ImageFormat::Png)).unwrap();
    assert!(p.width <= p.height * MAX_RATIO, "{}x{}", p.width, p.height);
}

#[test]
fn noise_too_big_for_png_goes_as_jpeg() {
    let mut seed = 1u32;
    let noise = RgbImage::from_fn(2560, 2048, |_, _| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        image::Rgb([(seed >> 24) as u8, (seed >> 16) as u8, (seed >> 8) as u8])
    });
    let p = prepare(&encoded(noise, ImageFormat::Png)).unwrap();
    assert!(p.jpeg && p.bytes.len() <= MAX_BYTES);
    assert_eq!(&p.bytes[..3], b"\xFF\xD8\xFF");
}

#[test]
fn garbage_and_empty_answers_are_errors() {
    assert!(matches!(
        prepare(b"not an image"),
        Err(PhotoError::Decode(_))
    ));
    assert!(matches!(prepare(b""), Err(PhotoError::Empty)));
    let png = encoded(gradient(64, 64), ImageFormat::Png);
    assert!(matches!(
        prepare(&png[..png.len() / 2]),
        Err(PhotoError::Decode(_))
    ));
}
