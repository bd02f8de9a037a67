//! House rules for `src/`, checked on the source text (`docs/ARCHITECTURE.md`,
//! "Layers"):
//!
//! * no import cycle between files;
//! * the lower modules (every module but `cli/` and `ops/`) never import
//!   `cli/` or `ops/`, and `ops/` never imports `cli/`;
//! * no function longer than [`MAX_FN_LINES`] lines, except those in
//!   [`LONG_FN_ALLOWLIST`], each with its reason;
//! * comments and templates cite files of this repository, not design notes
//!   outside it.
//!
//! The scanner is deliberately small: it strips comments and literals, then
//! reads `use` trees and `crate::`/`super::`/`self::` paths, and matches
//! braces to measure functions. A path resolves to the file of its longest
//! module prefix; a name re-exported by that file (`pub use child::Name`)
//! resolves to the file it comes from, so a re-export is not a dependency on
//! the `mod.rs` that forwards it. Paths inside an inline `mod tests { … }`
//! count from that inline module.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The longest function allowed in `src/`.
const MAX_FN_LINES: usize = 150;

/// Functions allowed to be longer, as (file under `src/`, function, reason).
/// An entry that is no longer needed fails the test, so the list only shrinks.
const LONG_FN_ALLOWLIST: &[(&str, &str, &str)] = &[(
    "device/blob.rs",
    "decode",
    "owned by the OTA work, which is adding fields to the blob; one match arm per field",
)];

/// Import cycles allowed for now, as (the files of the cycle, reason). An
/// entry whose cycle is gone fails the test.
const CYCLE_ALLOWLIST: &[(&[&str], &str)] = &[];

#[test]
fn no_import_cycles_between_files() {
    let krate = Crate::load();
    let graph = krate.import_graph();
    let mut found: Vec<Vec<String>> = strongly_connected(&graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    found.sort();
    let mut problems = Vec::new();
    for comp in &found {
        let allowed = CYCLE_ALLOWLIST.iter().any(|(files, _)| {
            let mut f: Vec<String> = files.iter().map(|s| s.to_string()).collect();
            f.sort();
            &f == comp
        });
        if !allowed {
            let mut msg = format!("import cycle between {}:", comp.join(", "));
            for a in comp {
                for (b, why) in &graph[a] {
                    if comp.contains(b) {
                        msg.push_str(&format!("\n    src/{a} -> src/{b} ({why})"));
                    }
                }
            }
            problems.push(msg);
        }
    }
    for (files, reason) in CYCLE_ALLOWLIST {
        let mut f: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        f.sort();
        if !found.contains(&f) {
            problems.push(format!(
                "CYCLE_ALLOWLIST entry {f:?} ({reason}) is no longer a cycle: remove it"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nBreak a cycle by moving what both files need into a file of its own \
         (a `mod.rs` that re-exports its children must not define items they use). \
         If that cannot be done now, add the files to CYCLE_ALLOWLIST in \
         tests/it/house.rs with the reason.",
        problems.join("\n")
    );
}

#[test]
fn lower_modules_do_not_import_cli_or_ops() {
    let krate = Crate::load();
    let graph = krate.import_graph();
    let top = |file: &str| {
        file.split('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string()
    };
    let mut problems = Vec::new();
    for (from, targets) in &graph {
        let from_top = top(from);
        // Every module other than `cli/` and `ops/` (and `lib.rs`, which only
        // declares them) is a lower module, new ones included.
        let forbidden: &[&str] = match from_top.as_str() {
            "cli" | "lib" => &[],
            "ops" => &["cli"],
            _ => &["cli", "ops"],
        };
        for (to, why) in targets {
            if forbidden.contains(&top(to).as_str()) {
                problems.push(format!("src/{from} imports src/{to} ({why})"));
            }
        }
    }
    assert!(problems.is_empty(), "layering:\n{}", problems.join("\n"));
}

#[test]
fn no_function_longer_than_the_limit() {
    let krate = Crate::load();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (file, text) in &krate.stripped {
        for f in functions(text) {
            if f.lines <= MAX_FN_LINES {
                continue;
            }
            let allowed = LONG_FN_ALLOWLIST
                .iter()
                .any(|(af, an, _)| *af == file.as_str() && *an == f.name);
            if allowed {
                seen.insert((file.clone(), f.name.clone()));
            } else {
                problems.push(format!(
                    "src/{file}:{} fn {} is {} lines (limit {MAX_FN_LINES}): split it along its steps",
                    f.line, f.name, f.lines
                ));
            }
        }
    }
    for (file, name, reason) in LONG_FN_ALLOWLIST {
        if !seen.contains(&(file.to_string(), name.to_string())) {
            problems.push(format!(
                "LONG_FN_ALLOWLIST entry src/{file} fn {name} ({reason}) is within the limit now \
                 (or gone): remove it"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nSplit a long function along its steps (a struct for the state they share \
         rather than a long argument list). If that cannot be done now, add it to \
         LONG_FN_ALLOWLIST in tests/it/house.rs with the reason.",
        problems.join("\n")
    );
}

/// Code, tests, templates and scripts cite documents of this repository
/// only (`docs/DEVICE.md, "Flash layout"`), never design notes a person who
/// clones the project does not have.
#[test]
fn citations_point_into_the_repository() {
    // Spelled in pieces so this file does not match itself.
    let outside = [
        ["DESIGN", " §"].concat(),
        ["flashing", ".md"].concat(),
        ["esp8266-tls", ".md"].concat(),
        ["CONVENTIONS", " "].concat(),
        ["../", "shared/"].concat(),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "src",
        "tests",
        "firmware-template",
        "templates",
        "scripts",
        "docs",
    ] {
        collect_files(&root.join(dir), &mut files);
    }
    files.push(root.join("README.md"));
    let mut problems = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue; // binary test data
        };
        for (n, line) in text.lines().enumerate() {
            if let Some(what) = outside.iter().find(|w| line.contains(w.as_str())) {
                let rel = file.strip_prefix(root).unwrap_or(&file);
                problems.push(format!(
                    "{}:{}: cites {what}: {}",
                    rel.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "cite a file of this repository instead (usually a section of docs/DEVICE.md):\n{}",
        problems.join("\n")
    );
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let p = entry.unwrap().path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The scanner must see what it claims to see; a regression here would make
/// the rules above pass vacuously.
#[test]
fn scanner_self_check() {
    let text = strip(
        "use crate::a::{b::{self, C}, d as e};\n\
         // use crate::commented;\n\
         let s = \"crate::in_string\";\n\
         fn f() {\n    let x = '{';\n    super::g();\n}\n\
         #[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    );
    let uses = path_uses(&text);
    let paths: Vec<String> = uses.iter().map(|u| u.segs.join("::")).collect();
    assert!(paths.contains(&"crate::a::b".to_string()), "{paths:?}");
    assert!(paths.contains(&"crate::a::b::C".to_string()), "{paths:?}");
    assert!(paths.contains(&"crate::a::d".to_string()), "{paths:?}");
    assert!(paths.contains(&"super::g".to_string()), "{paths:?}");
    assert!(!paths
        .iter()
        .any(|p| p.contains("commented") || p.contains("in_string")));
    let inner = uses
        .iter()
        .find(|u| u.segs == ["super"])
        .expect("use super::*");
    assert_eq!(inner.depth, 1);
    let fns = functions(&text);
    assert_eq!(fns.len(), 1);
    assert_eq!((fns[0].name.as_str(), fns[0].lines), ("f", 4));

    let krate = Crate::load();
    assert!(
        krate.files.len() > 50,
        "found only {} files",
        krate.files.len()
    );
    let graph = krate.import_graph();
    let edges: usize = graph.values().map(|t| t.len()).sum();
    assert!(edges > 100, "found only {edges} imports");
    assert!(graph["flash/loader.rs"].contains_key("flash/protocol.rs"));
}

// ---------------------------------------------------------------------------
// The crate as files and module paths

struct Crate {
    /// file (relative to `src/`) → module path (`flash::loader`).
    files: BTreeMap<String, Vec<String>>,
    modules: HashMap<Vec<String>, String>,
    /// file → source without comments and literals.
    stripped: BTreeMap<String, String>,
}

impl Crate {
    fn load() -> Crate {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut paths = Vec::new();
        collect_rs(&root, &mut paths);
        let mut files = BTreeMap::new();
        let mut stripped = BTreeMap::new();
        for p in paths {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "main.rs" {
                continue; // the binary, which sees the library as `espmqtt::`
            }
            let mut segs: Vec<String> = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(String::from)
                .collect();
            if matches!(segs.last().map(String::as_str), Some("mod" | "lib")) {
                segs.pop();
            }
            let text = std::fs::read_to_string(&p).unwrap();
            stripped.insert(rel.clone(), strip(&text));
            files.insert(rel, segs);
        }
        let modules = files.iter().map(|(f, m)| (m.clone(), f.clone())).collect();
        Crate {
            files,
            modules,
            stripped,
        }
    }

    /// file → (imported file → one path that shows it).
    fn import_graph(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        // Re-exports first: file → (name → file it comes from). Iterated so
        // that chains of re-exports settle.
        let mut reexports: HashMap<String, HashMap<String, String>> = HashMap::new();
        for _ in 0..4 {
            for (file, text) in &self.stripped {
                for u in path_uses(text).iter().filter(|u| u.public && u.depth == 0) {
                    if let Some(target) = self.resolve(file, u, &reexports) {
                        if &target != file {
                            let name = u.segs.last().unwrap().clone();
                            reexports
                                .entry(file.clone())
                                .or_default()
                                .insert(name, target);
                        }
                    }
                }
            }
        }
        let mut graph = BTreeMap::new();
        for (file, text) in &self.stripped {
            let mut targets = BTreeMap::new();
            for u in path_uses(text) {
                if let Some(target) = self.resolve(file, &u, &reexports) {
                    if &target != file {
                        targets.entry(target).or_insert_with(|| u.segs.join("::"));
                    }
                }
            }
            graph.insert(file.clone(), targets);
        }
        graph
    }

    /// The file a path points into, or `None` for paths outside the crate.
    fn resolve(
        &self,
        file: &str,
        u: &PathUse,
        reexports: &HashMap<String, HashMap<String, String>>,
    ) -> Option<String> {
        let here = &self.files[file];
        let mut segs: &[String] = &u.segs;
        let mut base: Vec<String>;
        let mut inline_depth = u.depth;
        match segs.first()?.as_str() {
            "crate" => {
                base = Vec::new();
                segs = &segs[1..];
            }
            "super" | "self" => {
                base = here.clone();
                while let Some(s) = segs.first() {
                    match s.as_str() {
                        "self" => {}
                        "super" if inline_depth > 0 => inline_depth -= 1,
                        "super" => {
                            base.pop()?;
                        }
                        _ => break,
                    }
                    segs = &segs[1..];
                }
            }
            // `use child::x;` in a `mod.rs`: a relative path to a child module.
            first if u.depth == 0 && u.is_use => {
                let mut child = here.clone();
                child.push(first.to_string());
                if !self.modules.contains_key(&child) {
                    return None;
                }
                base = here.clone();
            }
            _ => return None,
        }
        let mut best = base.clone();
        let mut rest = segs;
        let mut probe = base;
        for (i, s) in segs.iter().enumerate() {
            probe.push(s.clone());
            if self.modules.contains_key(&probe) {
                best = probe.clone();
                rest = &segs[i + 1..];
            } else {
                break;
            }
        }
        let mut target = self.modules.get(&best)?.clone();
        for _ in 0..4 {
            let Some(name) = rest.first() else { break };
            match reexports.get(&target).and_then(|r| r.get(name)) {
                Some(next) => {
                    target = next.clone();
                    rest = &rest[1..];
                }
                None => break,
            }
        }
        Some(target)
    }
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            collect_rs(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

// ---------------------------------------------------------------------------
// Scanning

/// Source with comments removed and string/char literals emptied; line
/// breaks are kept so line numbers stay right.
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let ident = |i: usize| i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
    let keep_newlines = |out: &mut String, s: &[u8]| {
        for _ in s.iter().filter(|&&c| c == b'\n') {
            out.push('\n');
        }
    };
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let start = i;
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            keep_newlines(&mut out, &b[start..i]);
        } else if !ident(i) && raw_string_start(&b[i..]).is_some() {
            let (open, hashes) = raw_string_start(&b[i..]).unwrap();
            let start = i;
            i += open;
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            while i < b.len() && !b[i..].starts_with(&close) {
                i += 1;
            }
            i = (i + close.len()).min(b.len());
            keep_newlines(&mut out, &b[start..i]);
            out.push_str("\"\"");
        } else if b[i] == b'"' || (b[i] == b'b' && b.get(i + 1) == Some(&b'"') && !ident(i)) {
            let start = i;
            i += if b[i] == b'b' { 2 } else { 1 };
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            keep_newlines(&mut out, &b[start..i]);
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            match char_literal_len(&src[i..]) {
                Some(n) => {
                    out.push_str("' '");
                    i += n;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = src[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// `r"`, `r#"`, `br##"` …: (length of the opening, number of `#`).
fn raw_string_start(b: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    if b.first() == Some(&b'b') {
        i += 1;
    }
    if b.get(i) != Some(&b'r') {
        return None;
    }
    i += 1;
    let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
    i += hashes;
    (b.get(i) == Some(&b'"')).then_some((i + 1, hashes))
}

/// Length of the char literal at the start of `s` (which starts with `'`),
/// or `None` when the quote starts a lifetime.
fn char_literal_len(s: &str) -> Option<usize> {
    let rest = &s[1..];
    if let Some(escaped) = rest.strip_prefix('\\') {
        let end = escaped.char_indices().skip(1).find(|(_, c)| *c == '\'')?.0;
        return Some(1 + 1 + end + 1);
    }
    let c = rest.chars().next()?;
    rest[c.len_utf8()..]
        .starts_with('\'')
        .then_some(1 + c.len_utf8() + 1)
}

/// One path the code names: `crate::a::B`, `super::c`, or a `use` leaf.
#[derive(Debug)]
struct PathUse {
    segs: Vec<String>,
    /// How many inline `mod x { … }` blocks enclose it.
    depth: usize,
    /// From a `pub use` / `pub(crate) use`.
    public: bool,
    is_use: bool,
}

fn path_uses(text: &str) -> Vec<PathUse> {
    let inline = inline_mods(text);
    let depth_at = |pos: usize| inline.iter().filter(|(a, b)| *a < pos && pos < *b).count();
    let mut out = Vec::new();
    // `use` trees.
    let mut from = 0;
    while let Some(off) = find_word(&text[from..], "use") {
        let at = from + off;
        let Some(end) = text[at..].find(';') else {
            break;
        };
        let tree = &text[at + 3..at + end];
        let before = text[..at].trim_end();
        let public = before.rsplit_once("pub").is_some_and(|(_, vis)| {
            let vis = vis.trim();
            vis.is_empty() || vis.starts_with('(') && vis.ends_with(')') && !vis.contains(';')
        });
        for segs in expand_use_tree(tree, &[]) {
            if !segs.is_empty() {
                out.push(PathUse {
                    segs,
                    depth: depth_at(at),
                    public,
                    is_use: true,
                });
            }
        }
        from = at + end + 1;
    }
    // Paths in expressions and types.
    for root in ["crate", "super", "self"] {
        let mut from = 0;
        while let Some(off) = find_word(&text[from..], root) {
            let at = from + off;
            from = at + root.len();
            if text[..at].ends_with("::") || !text[from..].starts_with("::") {
                continue;
            }
            let mut segs = vec![root.to_string()];
            let mut rest = &text[from..];
            while let Some(r) = rest.strip_prefix("::") {
                let n = r
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                if n == 0 {
                    break;
                }
                segs.push(r[..n].to_string());
                rest = &r[n..];
            }
            // `super::{…}` and `super::*` belong to a `use` tree, read above.
            if segs.len() > 1 {
                out.push(PathUse {
                    segs,
                    depth: depth_at(at),
                    public: false,
                    is_use: false,
                });
            }
        }
    }
    out
}

/// Byte offset of `word` standing alone (not part of an identifier).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let b = text.as_bytes();
    let is_id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut from = 0;
    while let Some(off) = text[from..].find(word) {
        let at = from + off;
        let end = at + word.len();
        if (at == 0 || !is_id(b[at - 1])) && (end >= b.len() || !is_id(b[end])) {
            return Some(at);
        }
        from = end;
    }
    None
}

/// `a::{b::{self, C}, d as e}` → `a::b`, `a::b::C`, `a::d`.
fn expand_use_tree(tree: &str, prefix: &[String]) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or("").trim();
        let mut segs = prefix.to_vec();
        segs.extend(
            path.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "*")
                .map(String::from),
        );
        // `a::{self, B}` names `a` itself.
        if segs.len() > 1 && segs.last().is_some_and(|s| s == "self") {
            segs.pop();
        }
        return vec![segs];
    };
    let mut head = prefix.to_vec();
    head.extend(
        tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
    );
    let close = tree.rfind('}').unwrap_or(tree.len());
    let inner = &tree[open + 1..close];
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.extend(expand_use_tree(&inner[start..i], &head));
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].trim().is_empty() {
        out.extend(expand_use_tree(&inner[start..], &head));
    }
    out
}

/// Byte ranges of inline `mod name { … }` blocks.
fn inline_mods(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(off) = find_word(&text[from..], "mod") {
        let at = from + off;
        from = at + 3;
        let rest = &text[from..];
        let name_len = rest
            .trim_start()
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        let after = rest.trim_start()[name_len..].trim_start();
        if name_len > 0 && after.starts_with('{') {
            let open = text.len() - after.len();
            if let Some(close) = matching_brace(text, open) {
                out.push((at, close));
            }
        }
    }
    out
}

fn matching_brace(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

struct Function {
    name: String,
    /// 1-based line of `fn`.
    line: usize,
    /// From the `fn` line to the closing brace, both included.
    lines: usize,
}

/// Every `fn` with a body (nested ones included, each measured on its own).
fn functions(text: &str) -> Vec<Function> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(off) = find_word(&text[from..], "fn") {
        let at = from + off;
        from = at + 2;
        let rest = text[from..].trim_start();
        let name_len = rest
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if name_len == 0 {
            continue; // `fn(` pointer types
        }
        let name = rest[..name_len].to_string();
        // The body is the first `{` outside parentheses and brackets, unless
        // a `;` comes first (a declaration in a trait).
        let sig_start = text.len() - rest.len() + name_len;
        let mut depth = 0i32;
        let mut body = None;
        for (i, c) in text[sig_start..].char_indices() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                ';' if depth == 0 => break,
                '{' if depth == 0 => {
                    body = Some(sig_start + i);
                    break;
                }
                _ => {}
            }
        }
        let Some(open) = body else { continue };
        let Some(close) = matching_brace(text, open) else {
            continue;
        };
        let line = text[..at].matches('\n').count() + 1;
        let last = text[..close].matches('\n').count() + 1;
        out.push(Function {
            name,
            line,
            lines: last - line + 1,
        });
    }
    out
}

// ---------------------------------------------------------------------------
// Cycles

/// Tarjan's strongly connected components, each sorted.
fn strongly_connected(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeMap<String, String>>,
        index: HashMap<&'g str, usize>,
        low: HashMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(st: &mut State<'g>, v: &'g str) {
        st.index.insert(v, st.next);
        st.low.insert(v, st.next);
        st.next += 1;
        st.stack.push(v);
        st.on_stack.insert(v);
        let graph = st.graph;
        for w in graph[v].keys() {
            let w = w.as_str();
            if !graph.contains_key(w) {
                continue;
            }
            if !st.index.contains_key(w) {
                visit(st, w);
                let lw = st.low[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if st.on_stack.contains(w) {
                let iw = st.index[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if st.low[v] == st.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = st.stack.pop().unwrap();
                st.on_stack.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            comp.sort();
            st.out.push(comp);
        }
    }
    let mut st = State {
        graph,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !st.index.contains_key(v.as_str()) {
            visit(&mut st, v);
        }
    }
    st.out
}
