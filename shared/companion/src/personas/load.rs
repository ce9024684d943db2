//! Loading the cards of a folder: every `*.json` and `*.png` in it, in name order. A card that
//! cannot be used is refused alone — the others load, and its problem (file, field, reason)
//! is returned beside them, to be logged and shown in the admin panel. Two files of one slug
//! (`mira.json` and `mira.png`): the first in name order stays, the second is a problem.

use std::path::Path;

use super::{Persona, PersonaError, parse, parse_png};

/// A card refused at load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as named in the folder (`mira.json`, `avatars/mira.png`).
    pub file: String,
    /// The card field at fault (`data.first_mes`), or `(json)`, `(png)`, `(file)`, `slug`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl From<&PersonaError> for Problem {
    fn from(e: &PersonaError) -> Self {
        Self {
            file: e.file().to_owned(),
            field: e.field().to_owned(),
            reason: e.reason(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.field, self.reason)
    }
}

/// What a folder gave.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The usable personas.
    pub personas: Vec<Persona>,
    /// The refused cards, in file order.
    pub problems: Vec<Problem>,
}

/// Loads every card in `dir`. Only a folder that cannot be read is an error; a bad card is a
/// [`Problem`] of the result.
pub fn load_dir(dir: &Path) -> Result<Loaded, PersonaError> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|source| PersonaError::Io {
            file: dir.display().to_string(),
            source,
        })?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") || name.ends_with(".png"))
        .collect();
    files.sort();
    let mut out = Loaded::default();
    let mut seen: Vec<(String, String)> = Vec::new();
    for file in files {
        let (slug, _) = file.rsplit_once('.').unwrap_or((&file, ""));
        if let Some((first, _)) = seen.iter().find(|(_, s)| s == slug) {
            let e = PersonaError::Duplicate(first.clone(), file.clone(), slug.to_owned());
            out.problems.push(Problem::from(&e));
            continue;
        }
        match one(dir, &file, slug) {
            Ok(p) => {
                seen.push((file.clone(), slug.to_owned()));
                out.personas.push(p);
            }
            Err(e) => out.problems.push(Problem::from(&e)),
        }
    }
    Ok(out)
}

/// The persona of `dir/file` (slug `slug`), with her avatar.
pub(super) fn one(dir: &Path, file: &str, slug: &str) -> Result<Persona, PersonaError> {
    let io = |file: String| move |source| PersonaError::Io { file, source };
    let bytes = std::fs::read(dir.join(file)).map_err(io(file.to_owned()))?;
    if file.ends_with(".png") {
        return parse_png(file, slug, &bytes);
    }
    let mut p = parse(file, slug, &bytes)?;
    let avatar = format!("avatars/{slug}.png");
    p.avatar = match std::fs::read(dir.join(&avatar)) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(avatar)(e)),
    };
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::super::tests::stacy;
    use super::super::{export_png, png};
    use super::*;

    fn problem<'a>(loaded: &'a Loaded, file: &str) -> &'a Problem {
        let found = loaded.problems.iter().find(|p| p.file == file);
        found.unwrap_or_else(|| panic!("no problem for {file}: {:?}", loaded.problems))
    }

    #[test]
    fn each_bad_card_is_refused_alone_naming_its_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let good = &stacy();
        let text = serde_json::to_string(&good.card).unwrap();
        let write = |name: &str, body: &[u8]| std::fs::write(dir.path().join(name), body).unwrap();
        write("good.json", text.as_bytes());
        write("cut.json", &text.as_bytes()[..text.len() / 2]);
        let mut bare = good.card.clone();
        bare["data"]["extensions"]["companion"]
            .as_object_mut()
            .unwrap()
            .remove("age");
        write("ageless.json", &serde_json::to_vec(&bare).unwrap());
        let mut young = good.card.clone();
        young["data"]["first_mes"] = "hi! I'm 15, so no parties for me".into();
        write("young.json", &serde_json::to_vec(&young).unwrap());
        let picture = png::strip_card(&export_png(good).unwrap()).unwrap();
        write("picture.png", &picture);
        write("notes.txt", b"not a card, not read");

        let loaded = load_dir(dir.path()).unwrap();
        let slugs: Vec<&str> = loaded.personas.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, ["good"]);
        assert_eq!(loaded.problems.len(), 4, "{:?}", loaded.problems);
        assert_eq!(problem(&loaded, "cut.json").field, "(json)");
        let ageless = problem(&loaded, "ageless.json");
        assert_eq!(ageless.field, "data.extensions.companion.age");
        assert!(ageless.reason.contains("none given"), "{ageless}");
        assert_eq!(problem(&loaded, "young.json").field, "data.first_mes");
        let picture = problem(&loaded, "picture.png");
        assert_eq!(picture.field, "(png)");
        assert!(picture.reason.contains("no character card"), "{picture}");
    }

    #[test]
    fn two_files_for_one_slug_keep_the_first_and_report_the_second() {
        let dir = tempfile::tempdir().unwrap();
        let p = &stacy();
        std::fs::write(
            dir.path().join("a.json"),
            serde_json::to_vec(&p.card).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.path().join("a.png"), export_png(p).unwrap()).unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(loaded.personas.len(), 1);
        assert!(
            loaded.personas[0].avatar.is_none(),
            "the JSON one, first by name"
        );
        let dup = problem(&loaded, "a.png");
        assert_eq!(dup.field, "slug");
        assert!(dup.reason.contains("already defined by a.json"), "{dup}");
    }

    #[test]
    fn a_folder_that_cannot_be_read_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_dir(&dir.path().join("missing")).is_err());
    }
}
