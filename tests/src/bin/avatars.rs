//! `avatars`: renders the shipped personas' avatars (`personas/avatars/<slug>.png`) as flat
//! illustrated portraits from a few shapes — no downloads, the same pixels on every run.
//! Run with `cargo run -p standins --bin avatars` after changing a look here.

use image::{Rgba, RgbaImage, imageops};

const SIZE: u32 = 512;
/// Rendered this many times larger, then scaled down: smooth edges.
const SCALE: u32 = 3;

#[derive(Clone, Copy, PartialEq)]
enum Hair {
    Ponytail,
    Bob,
    Braid,
    Wavy,
    Straight,
}

struct Look {
    slug: &'static str,
    sky: [u8; 3],
    ground: [u8; 3],
    skin: [u8; 3],
    hair: [u8; 3],
    hair_style: Hair,
    eyes: [u8; 3],
    top: [u8; 3],
    trim: [u8; 3],
    freckles: bool,
    necklace: bool,
}

#[rustfmt::skip]
const LOOKS: [Look; 5] = [
    Look { slug: "stacy", sky: [255, 214, 236], ground: [196, 181, 253], skin: [247, 214, 190], hair: [150, 105, 70], hair_style: Hair::Ponytail, eyes: [120, 95, 50], top: [200, 162, 232], trim: [255, 255, 255], freckles: true, necklace: false },
    Look { slug: "amanda", sky: [255, 228, 200], ground: [190, 120, 110], skin: [236, 196, 168], hair: [92, 52, 35], hair_style: Hair::Bob, eyes: [95, 60, 35], top: [140, 30, 55], trim: [120, 20, 45], freckles: false, necklace: true },
    Look { slug: "jane", sky: [214, 240, 255], ground: [170, 215, 160], skin: [240, 200, 165], hair: [232, 196, 110], hair_style: Hair::Braid, eyes: [70, 130, 200], top: [150, 190, 230], trim: [60, 90, 150], freckles: true, necklace: false },
    Look { slug: "mira", sky: [250, 236, 214], ground: [150, 170, 150], skin: [245, 210, 185], hair: [160, 70, 40], hair_style: Hair::Wavy, eyes: [70, 140, 90], top: [240, 230, 210], trim: [200, 190, 170], freckles: true, necklace: false },
    Look { slug: "lena", sky: [225, 230, 250], ground: [110, 120, 160], skin: [242, 212, 192], hair: [30, 30, 35], hair_style: Hair::Straight, eyes: [60, 60, 70], top: [60, 60, 70], trim: [230, 230, 235], freckles: false, necklace: false },
];

/// Inside test for an axis-aligned ellipse.
fn ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let (dx, dy) = ((x - cx) / rx, (y - cy) / ry);
    dx * dx + dy * dy <= 1.0
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let m = |i: usize| (a[i] as f32 + (b[i] as f32 - a[i] as f32) * t) as u8;
    [m(0), m(1), m(2)]
}

fn shade(c: [u8; 3], f: f32) -> [u8; 3] {
    mix(c, [0, 0, 0], f)
}

/// The colour of one point of the portrait, in 512×512 coordinates (painter's order: later
/// layers win).
fn paint(l: &Look, x: f32, y: f32) -> [u8; 3] {
    let mut c = mix(l.sky, l.ground, (y / 512.0).powf(1.4));
    if ellipse(x, y, 256.0, 250.0, 210.0, 210.0) {
        c = mix(c, [255, 255, 255], 0.18);
    }
    let long = matches!(l.hair_style, Hair::Wavy | Hair::Straight);
    // Hair behind the head and shoulders.
    if long
        && (ellipse(x, y, 256.0, 250.0, 125.0, 140.0)
            || (y > 250.0 && y < 420.0 && (x - 256.0).abs() < 122.0 - (y - 250.0) * 0.05))
    {
        c = shade(l.hair, 0.15);
    }
    if l.hair_style == Hair::Bob && ellipse(x, y, 256.0, 265.0, 128.0, 115.0) {
        c = shade(l.hair, 0.12);
    }
    if l.hair_style == Hair::Ponytail && ellipse(x, y, 360.0, 190.0, 55.0, 95.0) {
        c = shade(l.hair, 0.1);
    }
    // Body, neck, face.
    if ellipse(x, y, 256.0, 590.0, 215.0, 190.0) {
        c = l.top;
        if ellipse(x, y, 256.0, 420.0, 60.0, 55.0) || (y > 400.0 && (x - 256.0).abs() < 8.0) {
            c = l.trim;
        }
    }
    if (x - 256.0).abs() < 38.0
        && y > 320.0
        && y < 440.0
        && !ellipse(x, y, 256.0, 590.0, 215.0, 190.0)
    {
        c = shade(l.skin, 0.08);
    }
    if ellipse(x, y, 256.0, 420.0, 52.0, 40.0)
        && y < 445.0
        && ellipse(x, y, 256.0, 590.0, 215.0, 190.0)
    {
        c = shade(l.skin, 0.04);
    }
    if l.necklace
        && ellipse(x, y, 256.0, 405.0, 44.0, 42.0)
        && !ellipse(x, y, 256.0, 405.0, 41.0, 39.0)
        && y > 405.0
    {
        c = [212, 175, 55];
    }
    let face = ellipse(x, y, 256.0, 255.0, 92.0, 115.0);
    if face {
        c = l.skin;
        if ellipse(x, y, 206.0, 300.0, 20.0, 12.0) || ellipse(x, y, 306.0, 300.0, 20.0, 12.0) {
            c = mix(l.skin, [240, 120, 130], 0.35);
        }
        for (ex, ey) in [(220.0, 262.0), (292.0, 262.0)] {
            if ellipse(x, y, ex, ey, 12.0, 14.0) {
                c = l.eyes;
                if ellipse(x, y, ex + 4.0, ey - 5.0, 4.0, 4.0) {
                    c = [255, 255, 255];
                }
            }
            if (y - (ey - 30.0) - ((x - ex) / 11.0).powi(2)).abs() < 2.5 && (x - ex).abs() < 20.0 {
                c = shade(l.hair, 0.35);
            }
        }
        let smile = ellipse(x, y, 256.0, 312.0, 26.0, 18.0)
            && !ellipse(x, y, 256.0, 306.0, 26.0, 17.0)
            && y > 314.0;
        if smile {
            c = [196, 90, 100];
        }
        if l.freckles {
            for (fx, fy) in [
                (214.0, 288.0),
                (224.0, 294.0),
                (204.0, 294.0),
                (298.0, 288.0),
                (288.0, 294.0),
                (308.0, 294.0),
            ] {
                if ellipse(x, y, fx, fy, 2.2, 2.2) {
                    c = shade(l.skin, 0.3);
                }
            }
        }
    }
    // Hair in front: the crown and a fringe over the forehead.
    let crown = ellipse(x, y, 256.0, 222.0, 104.0, 100.0);
    let fringe = y < 200.0 + 14.0 * ((x - 256.0) / 18.0).sin().abs() + (x - 256.0).abs() * 0.12;
    if crown && (fringe || !face) {
        c = l.hair;
        if ellipse(x, y, 226.0, 168.0, 28.0, 12.0) {
            c = mix(l.hair, [255, 255, 255], 0.25);
        }
    }
    if l.hair_style == Hair::Braid {
        for i in 0..6 {
            let (bx, by) = (338.0 - i as f32 * 4.0, 330.0 + i as f32 * 34.0);
            if ellipse(x, y, bx, by, 24.0 - i as f32, 20.0) {
                c = if ellipse(x, y, bx, by - 4.0, 18.0 - i as f32, 12.0) {
                    l.hair
                } else {
                    shade(l.hair, 0.2)
                };
            }
        }
    }
    c
}

fn render(l: &Look) -> RgbaImage {
    let big = SIZE * SCALE;
    let img = RgbaImage::from_fn(big, big, |px, py| {
        let s = SCALE as f32;
        let [r, g, b] = paint(l, px as f32 / s, py as f32 / s);
        Rgba([r, g, b, 255])
    });
    imageops::resize(&img, SIZE, SIZE, imageops::FilterType::Triangle)
}

fn main() -> anyhow::Result<()> {
    let dir = standins::harness::root().join("personas/avatars");
    std::fs::create_dir_all(&dir)?;
    for look in &LOOKS {
        let path = dir.join(format!("{}.png", look.slug));
        render(look).save(&path)?;
        println!("written: {}", path.display());
    }
    Ok(())
}
