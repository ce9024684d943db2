//! The shape of the code, checked without servers: the runtime never imports the bot's
//! domain, no crate has a module circle, and no source file grows past the size cap without
//! saying why in its header.
//!
//! Module circles are read from the source: every `crate::…` and `super::…` path (grouped
//! `use crate::{a, b}` included) is an edge from the file that writes it to the module it
//! names. An edge is lifted to the two children of the modules' nearest common ancestor, so
//! `a::x` using `b::y` is `a → b` among the root's children; a module using its own parent
//! or child is not an edge (a parent re-exports its children, children use its types).
//! Sibling modules must form a DAG: a cycle is reported with the files that make it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lines a file may have before its header must say why it is longer.
const SIZE_CAP: usize = 320;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every library crate of the workspace, by its `src/` folder.
fn library_sources() -> Vec<PathBuf> {
    let mut dirs = vec![
        root().join("shared/runtime/src"),
        root().join("shared/companion/src"),
        root().join("tests/src"),
    ];
    let mut functions: Vec<_> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .collect();
    functions.sort();
    dirs.extend(functions);
    dirs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/` (`runner/mod.rs` → `["runner"]`, binaries: none).
fn module_of(src: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") || parts.last().is_some_and(|p| p == "main.rs") {
        return None;
    }
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    Some(parts)
}

/// The paths a file names: `crate::a::b` as `["a", "b"]`, `super::c` resolved from `module`.
fn paths_named(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // A file's own unit tests (at its end) use their parent, the file itself.
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let ident = |i: usize| -> (String, usize) {
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        (code[i..j].to_owned(), j)
    };
    let mut i = 0;
    while let Some(at) = code[i..].find(['c', 's']).map(|k| k + i) {
        i = at + 1;
        let before_ok =
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        if !before_ok {
            continue;
        }
        let (base, mut j) = if code[at..].starts_with("crate::") {
            (Vec::new(), at + 7)
        } else if code[at..].starts_with("super::") {
            let mut base = module.to_vec();
            let mut j = at;
            while code[j..].starts_with("super::") {
                base.pop();
                j += 7;
            }
            (base, j)
        } else {
            continue;
        };
        if code[j..].starts_with('{') {
            // `crate::{a, b::c}`: the first segment of each item.
            let end = code[j..].find('}').map_or(code.len(), |k| j + k);
            for item in code[j + 1..end].split(',') {
                let name = item
                    .trim()
                    .split("::")
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                if !name.is_empty() && name != "self" {
                    let mut p = base.clone();
                    p.push(name);
                    out.push(p);
                }
            }
            continue;
        }
        let mut path = base;
        loop {
            let (name, k) = ident(j);
            if name.is_empty() {
                break;
            }
            path.push(name);
            j = k;
            if code[j..].starts_with("::") {
                j += 2;
            } else {
                break;
            }
        }
        out.push(path);
    }
    out
}

/// The cycles among each module's children, as readable lines.
fn circles(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mods: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .filter_map(|f| module_of(src, f).map(|m| (m, f.clone())))
        .collect();
    // parent → (child → children it uses, with the file that says so)
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeMap<String, String>>> =
        BTreeMap::new();
    for (module, file) in &mods {
        let text = std::fs::read_to_string(file).unwrap();
        for path in paths_named(&text, module) {
            // The longest prefix of the path that is a module file.
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| mods.contains_key(p))
                .unwrap_or_default();
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common == module.len() || common == target.len() {
                continue; // ancestor or descendant
            }
            let rel = file.strip_prefix(src).unwrap().display().to_string();
            graphs
                .entry(module[..common].to_vec())
                .or_default()
                .entry(module[common].clone())
                .or_default()
                .entry(target[common].clone())
                .or_insert(rel);
        }
    }
    let mut found = Vec::new();
    for (parent, graph) in &graphs {
        for start in graph.keys() {
            // A path from `start` back to itself through nodes ordered after it (each cycle
            // once, from its smallest node).
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((node, trail)) = stack.pop() {
                for next in graph.get(&node).map(|m| m.keys()).into_iter().flatten() {
                    if next == start {
                        let via: Vec<String> = trail
                            .iter()
                            .zip(trail.iter().skip(1).chain(std::iter::once(start)))
                            .map(|(a, b)| format!("{a} → {b} ({})", graph[a][b]))
                            .collect();
                        found.push(format!("in `{}`: {}", parent.join("::"), via.join(", ")));
                    } else if next > start && seen.insert(next.clone()) {
                        let mut t = trail.clone();
                        t.push(next.clone());
                        stack.push((next.clone(), t));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_runtime_knows_nothing_of_the_bot() {
    let manifest = std::fs::read_to_string(root().join("shared/runtime/Cargo.toml")).unwrap();
    assert!(
        !manifest
            .lines()
            .any(|l| l.trim_start().starts_with("companion")),
        "shared/runtime/Cargo.toml depends on the companion crate"
    );
    let mut files = Vec::new();
    rust_files(&root().join("shared/runtime/src"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            !text.contains("companion::"),
            "{} names companion::",
            f.display()
        );
    }
}

#[test]
fn no_crate_has_a_module_circle() {
    let mut all = Vec::new();
    for src in library_sources() {
        for c in circles(&src) {
            all.push(format!(
                "{}: {c}",
                src.strip_prefix(root()).unwrap().display()
            ));
        }
    }
    assert!(all.is_empty(), "module circles:\n  {}", all.join("\n  "));
}

#[test]
fn the_circle_check_sees_a_circle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "//! x\nmod a;\nmod b;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap();
    std::fs::create_dir(src.join("b")).unwrap();
    std::fs::write(src.join("b/mod.rs"), "mod c;\npub struct B;\n").unwrap();
    std::fs::write(src.join("b/c.rs"), "use super::super::a::A;\n").unwrap();
    let found = circles(src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("a → b (a.rs)"), "{found:?}");
    assert!(found[0].contains("b → a (b/c.rs)"), "{found:?}");
}

#[test]
fn long_files_say_why() {
    let mut long = Vec::new();
    for src in library_sources()
        .into_iter()
        .chain([root().join("tests/tests")])
    {
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let lines = text.lines().count();
            let header: String = text.lines().take_while(|l| l.starts_with("//!")).collect();
            if lines > SIZE_CAP && !header.contains("Longer than") {
                long.push(format!(
                    "{} ({lines} lines)",
                    f.strip_prefix(root()).unwrap().display()
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {SIZE_CAP} lines without a `Longer than …` reason in the header:\n  {}",
        long.join("\n  ")
    );
}
