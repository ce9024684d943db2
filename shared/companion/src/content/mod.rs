//! Checks on what people and models write: minor safety (`safety`), how explicit a text is
//! (`nsfw`), and how undressed a picture may be (`nudity`).

pub mod nsfw;
pub mod nudity;
pub mod safety;
