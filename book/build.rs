//! Copies every chapter of the book into `OUT_DIR`, expanding mdBook's `{{#include path}}`
//! and `{{#include path:anchor}}`, so that `lib.rs` can hand each chapter to rustdoc and every
//! Rust listing in the book, inline or included, is compiled and run as a doc test.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let src = Path::new("src");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=src");
    for entry in fs::read_dir(src).expect("book/src exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = fs::read_to_string(&path).expect("chapter is UTF-8");
            let expanded = expand(&text, &path);
            let name = path.file_name().expect("file name");
            fs::write(out.join(name), expanded).expect("write chapter");
        }
    }
}

fn expand(text: &str, chapter: &Path) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{#include ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{#include ".len()..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed {{{{#include}}}} in {}", chapter.display()));
        let spec = after[..end].trim();
        let (file, anchor) = match spec.rsplit_once(':') {
            Some((f, a)) if !a.contains('/') => (f, Some(a)),
            _ => (spec, None),
        };
        let target = chapter.parent().expect("chapter dir").join(file);
        println!("cargo:rerun-if-changed={}", target.display());
        let body = fs::read_to_string(&target).unwrap_or_else(|e| {
            panic!(
                "{}: cannot include {}: {e}",
                chapter.display(),
                target.display()
            )
        });
        out.push_str(&select(&body, anchor, &target));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, or the whole file.
fn select(body: &str, anchor: Option<&str>, file: &Path) -> String {
    let Some(anchor) = anchor else {
        return body.trim_end().to_owned();
    };
    let start = format!("ANCHOR: {anchor}");
    let end = format!("ANCHOR_END: {anchor}");
    let mut inside = false;
    let mut found = false;
    let mut lines = Vec::new();
    for line in body.lines() {
        if line.contains(&end) {
            inside = false;
        } else if line.contains(&start) {
            inside = true;
            found = true;
        } else if inside && !line.contains("ANCHOR") {
            lines.push(line);
        }
    }
    assert!(found, "anchor `{anchor}` not found in {}", file.display());
    lines.join("\n")
}
