//! The `persona` command (`make persona CARD=… AGE=…`): its arguments read into a
//! [`Command`], run, and said as one line for the operator; every refusal is a non-zero exit
//! with the reason.
//!
//! ```text
//! persona import CARD --age N [--slug SLUG] [--avatar PNG] [--dir DIR] [--replace]
//! persona export SLUG|FILE OUT.png [--dir DIR]
//! ```
//! `DIR` defaults to `PERSONAS_DIR`, else `personas`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::import::{self, ImportError, Request};

/// How to call it.
pub const USAGE: &str = "usage:
  persona import CARD --age N [--slug SLUG] [--avatar PNG] [--dir DIR] [--replace]
      CARD: a character card (JSON or PNG; V1, V2 or V3); N: the character's age, which you
      vouch for (18 or more); written to DIR/<slug>.json and DIR/avatars/<slug>.png
  persona export SLUG|FILE OUT.png [--dir DIR]
      the persona as a card PNG (chara = V2, ccv3 = V3)
  DIR defaults to $PERSONAS_DIR, else personas";

/// What was asked.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Import a card.
    Import(Request),
    /// Export a persona (slug or file) to a PNG.
    Export {
        what: String,
        out: PathBuf,
        dir: PathBuf,
    },
}

impl Command {
    /// Reads the arguments (without the program name); `default_dir` when no `--dir`.
    pub fn parse(args: &[String], default_dir: PathBuf) -> Result<Self, String> {
        let mut plain = Vec::new();
        let mut flags: Vec<(String, Option<String>)> = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let Some(flag) = a.strip_prefix("--") else {
                plain.push(a.clone());
                continue;
            };
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None if flag == "replace" => (flag.to_owned(), None),
                None => (flag.to_owned(), it.next().cloned()),
            };
            if !["age", "slug", "avatar", "dir", "replace"].contains(&name.as_str()) {
                return Err(format!("unknown option --{name}"));
            }
            if name != "replace" && value.as_deref().is_none_or(str::is_empty) {
                return Err(format!("--{name} needs a value"));
            }
            flags.push((name, value));
        }
        let flag = |n: &str| flags.iter().rev().find(|(k, _)| k == n);
        let value = |n: &str| flag(n).and_then(|(_, v)| v.clone());
        let dir = value("dir").map_or(default_dir, PathBuf::from);
        match plain.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["import", card] => {
                let age = value("age").ok_or("import needs --age (18 or more)")?;
                let age = age
                    .trim()
                    .parse()
                    .map_err(|_| format!("--age {age:?} is not a whole number"))?;
                Ok(Command::Import(Request {
                    card: card.into(),
                    age,
                    slug: value("slug"),
                    avatar: value("avatar").map(PathBuf::from),
                    dir,
                    replace: flag("replace").is_some(),
                }))
            }
            ["export", what, out] => Ok(Command::Export {
                what: what.to_owned(),
                out: out.into(),
                dir,
            }),
            _ => Err("expected `import CARD --age N` or `export SLUG OUT.png`".into()),
        }
    }

    /// Runs it; the line to print.
    pub fn run(&self) -> Result<String, ImportError> {
        match self {
            Command::Import(r) => {
                let done = import::import(r)?;
                let p = &done.persona;
                let files: Vec<String> = done
                    .written
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect();
                Ok(format!(
                    "imported {} (slug {}, age {} as stated by you): {}; it loads at the next start",
                    p.name,
                    p.slug,
                    p.age,
                    files.join(", ")
                ))
            }
            Command::Export { what, out, dir } => {
                let p = import::export(what, dir, out)?;
                Ok(format!("exported {} to {}", p.name, out.display()))
            }
        }
    }
}

/// The whole command: `args` without the program name.
pub fn main(args: &[String]) -> ExitCode {
    if args
        .first()
        .is_some_and(|a| ["help", "-h", "--help"].contains(&a.as_str()))
    {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let dir = std::env::var_os("PERSONAS_DIR").map_or_else(|| "personas".into(), PathBuf::from);
    let command = match Command::parse(args, dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("persona: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match command.run() {
        Ok(said) => {
            println!("{said}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("persona: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        Command::parse(&args, "personas".into())
    }

    #[test]
    fn import_and_export_read_their_arguments() {
        assert_eq!(
            parse("import card.png --age 30 --slug=ann --replace").unwrap(),
            Command::Import(Request {
                card: "card.png".into(),
                age: 30,
                slug: Some("ann".into()),
                avatar: None,
                dir: "personas".into(),
                replace: true,
            })
        );
        assert_eq!(
            parse("export ann out.png --dir /srv/p").unwrap(),
            Command::Export {
                what: "ann".into(),
                out: "out.png".into(),
                dir: "/srv/p".into()
            }
        );
    }

    #[test]
    fn a_missing_or_bad_argument_is_named() {
        for (line, says) in [
            ("import card.png", "--age"),
            ("import card.png --age old", "not a whole number"),
            ("import card.png --age", "--age needs a value"),
            ("import card.png --age 30 --colour red", "--colour"),
            ("export ann", "expected"),
            ("", "expected"),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
    }
}
