//! The pictures every image stand-in answers with (Automatic1111 in `image_api`, ComfyUI and
//! Venice in `comfy`): a real PNG of the requested size, a gradient whose colours follow the
//! seed, so a test can tell two renders apart and the bot's decoding and shrinking run for real.

use std::io::Cursor;

/// A PNG of `w`×`h` whose colours depend on `seed`.
pub fn picture(w: u32, h: u32, seed: i64) -> Vec<u8> {
    let s = seed.unsigned_abs();
    let (r0, g0, b0) = (
        (s % 200) as u8,
        ((s / 200) % 200) as u8,
        ((s / 40_000) % 200) as u8,
    );
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            r0.wrapping_add((x * 55 / w.max(1)) as u8),
            g0.wrapping_add((y * 55 / h.max(1)) as u8),
            b0,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png encodes");
    out.into_inner()
}
