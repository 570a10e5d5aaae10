//! The crate's files import one another in one direction: no two files
//! (modules) of `src/` import each other, directly or through others. A
//! file that a `mod.rs` re-exports from counts as what is imported, so a
//! module's face (`pub use child::Thing`) is no cycle by itself. Test
//! modules (`#[cfg(test)]`) are left out: they may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Module = Vec<String>;

struct File {
    path: String,
    module: Module,
    code: String,
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let files = read_sources(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")));
    let crate_ = Crate::new(&files);
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        for path in imported_paths(&file.code) {
            if let Some((target, name)) = crate_.resolve(file, &path)
                && target != file.path
            {
                edges
                    .entry(file.path.clone())
                    .or_default()
                    .entry(target)
                    .or_default()
                    .insert(name);
            }
        }
    }
    let circles = strongly_connected(&edges);
    let mut report = String::new();
    for circle in &circles {
        report.push_str(&format!("circle of {} files:\n", circle.len()));
        for from in circle {
            for (to, names) in edges.get(from).into_iter().flatten() {
                if circle.contains(to) {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    report.push_str(&format!("  {from} -> {to}: {}\n", names.join(", ")));
                }
            }
        }
    }
    assert!(circles.is_empty(), "modules import each other:\n{report}");
}

/// The library's files (not the binary's `main.rs`), each with its module
/// path and its code without comments and test modules.
fn read_sources(src: &Path) -> Vec<File> {
    let mut paths = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                paths.push(path);
            }
        }
    }
    paths
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "main.rs"))
        .map(|path| {
            let relative = path.strip_prefix(src).unwrap();
            File {
                path: format!("src/{}", relative.display()),
                module: module_of(relative),
                code: without_tests(&without_comments(&fs::read_to_string(&path).unwrap())),
            }
        })
        .collect()
}

fn module_of(relative: &Path) -> Module {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        file => parts.push(file.trim_end_matches(".rs").to_owned()),
    }
    parts
}

fn without_comments(code: &str) -> String {
    let bytes = code.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let (mut i, mut in_string) = (0, false);
    let find = |from: usize, what: &[u8]| {
        bytes[from..]
            .windows(what.len())
            .position(|w| w == what)
            .map_or(bytes.len(), |n| from + n)
    };
    while i < bytes.len() {
        let rest = &bytes[i..];
        if in_string {
            match rest[0] {
                b'\\' => i += 2,
                b'"' => {
                    in_string = false;
                    i += 1;
                }
                _ => i += 1,
            }
        } else if rest.starts_with(b"//") {
            i = find(i, b"\n");
        } else if rest.starts_with(b"/*") {
            i = find(i, b"*/") + 2;
        } else if rest.starts_with(b"'\"'") {
            i += 3;
        } else {
            if rest[0] == b'"' {
                in_string = true;
                out.push(b' ');
            } else {
                out.push(rest[0]);
            }
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The code without `#[cfg(test)]` items (a test module, or one item).
fn without_tests(code: &str) -> String {
    let mut out = code.to_owned();
    while let Some(start) = out.find("#[cfg(test)]") {
        let rest = &out[start..];
        let end = match (rest.find('{'), rest.find(';')) {
            (Some(brace), semi) if semi.is_none_or(|s| brace < s) => {
                let mut depth = 0;
                let mut end = rest.len();
                for (i, c) in rest[brace..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = brace + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (_, Some(semi)) => semi + 1,
            _ => rest.len(),
        };
        out.replace_range(start..start + end, "");
    }
    out
}

/// Every path the code names: the leaves of its `use` trees, and the
/// `crate::…`, `super::…` and `self::…` paths written inline.
fn imported_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    let mut inline = String::new();
    while let Some(at) = find_use(rest) {
        inline.push_str(&rest[..at]);
        let after = &rest[at..];
        let start = after.find("use ").unwrap() + 4;
        let end = after.find(';').unwrap();
        // A re-export is an import too; its users are followed through it.
        let mut found = Vec::new();
        leaves(&after[start..end], &mut Vec::new(), &mut found);
        paths.extend(found.into_iter().map(|(_, path)| path));
        rest = &after[end + 1..];
    }
    inline.push_str(rest);
    let chars: Vec<char> = inline.chars().collect();
    let text: String = chars.iter().collect();
    for root in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(found) = text[from..].find(root) {
            let at = from + found;
            from = at + root.len();
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = text[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let segments: Vec<String> = path
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            paths.push(segments);
        }
    }
    paths
}

/// Where the next `use` declaration (with its visibility) starts.
fn find_use(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = code[from..].find("use ") {
        let at = from + found;
        from = at + 4;
        let line_start = code[..at].rfind('\n').map_or(0, |n| n + 1);
        let prefix = code[line_start..at].trim();
        let visibility = prefix.is_empty()
            || prefix == "pub"
            || (prefix.starts_with("pub(") && prefix.ends_with(')'));
        if visibility {
            return Some(if prefix.is_empty() {
                at
            } else {
                line_start + code[line_start..].find("pub").unwrap()
            });
        }
    }
    None
}

/// The leaves of a use tree (`a::{b, c::{d as e}, f::*}`): each one's path,
/// and the name it is known by (none for a glob).
fn leaves(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<(Option<String>, Vec<String>)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let depth = prefix.len();
        prefix.extend(
            head.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        for part in split_top(inner) {
            leaves(part, prefix, out);
        }
        prefix.truncate(depth);
        return;
    }
    let mut pieces = tree.split(" as ");
    let name = pieces.next().unwrap().trim();
    if name.is_empty() {
        return;
    }
    let mut path = prefix.clone();
    path.extend(
        name.split("::")
            .filter(|s| *s != "self" && *s != "*")
            .map(str::to_owned),
    );
    let known_as = match name.ends_with('*') {
        true => None,
        false => pieces
            .next()
            .map(|alias| alias.trim().to_owned())
            .or_else(|| path.last().cloned()),
    };
    out.push((known_as, path));
}

fn split_top(inner: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
}

/// The crate's modules: which file holds each, and what each re-exports.
struct Crate {
    files: BTreeMap<Module, String>,
    /// Per module, each re-exported name and the path it names.
    reexports: BTreeMap<Module, BTreeMap<String, Vec<String>>>,
}

impl Crate {
    fn new(files: &[File]) -> Self {
        let mut reexports: BTreeMap<Module, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for file in files {
            let mut rest = file.code.as_str();
            while let Some(at) = find_use(rest) {
                let after = &rest[at..];
                let start = after.find("use ").unwrap() + 4;
                let end = after.find(';').unwrap();
                if after.starts_with("pub") {
                    let mut found = Vec::new();
                    leaves(&after[start..end], &mut Vec::new(), &mut found);
                    for (name, path) in found {
                        let Some(name) = name else { continue };
                        reexports
                            .entry(file.module.clone())
                            .or_default()
                            .insert(name, path);
                    }
                }
                rest = &after[end + 1..];
            }
        }
        Self {
            files: files
                .iter()
                .map(|f| (f.module.clone(), f.path.clone()))
                .collect(),
            reexports,
        }
    }

    /// The file that defines what `path`, written in `file`, names, and the
    /// name it is known by; `None` for other crates.
    fn resolve(&self, file: &File, path: &[String]) -> Option<(String, String)> {
        let (mut module, rest) = match path.first()?.as_str() {
            "crate" => (Vec::new(), &path[1..]),
            "self" => (file.module.clone(), &path[1..]),
            "super" => {
                let mut module = file.module.clone();
                let mut rest = path;
                while rest.first().is_some_and(|s| s == "super") {
                    module.pop();
                    rest = &rest[1..];
                }
                (module, rest)
            }
            first => {
                let mut child = file.module.clone();
                child.push(first.to_owned());
                if !self.files.contains_key(&child) {
                    return None;
                }
                (file.module.clone(), path)
            }
        };
        self.walk(&mut module, rest, 0)
    }

    fn walk(&self, module: &mut Module, rest: &[String], depth: usize) -> Option<(String, String)> {
        let mut rest = rest;
        while let Some(segment) = rest.first() {
            let mut child = module.clone();
            child.push(segment.clone());
            if self.files.contains_key(&child) {
                *module = child;
                rest = &rest[1..];
                continue;
            }
            if let Some(target) = self.reexports.get(module).and_then(|r| r.get(segment))
                && depth < 8
            {
                let holder = File {
                    path: self.files[module].clone(),
                    module: module.clone(),
                    code: String::new(),
                };
                let mut full = target.clone();
                full.extend(rest[1..].iter().cloned());
                return self
                    .resolve(&holder, &full)
                    .or(Some((self.files[module].clone(), segment.clone())));
            }
            return Some((self.files.get(module)?.clone(), segment.clone()));
        }
        let name = module.last().cloned().unwrap_or_default();
        Some((self.files.get(module)?.clone(), name))
    }
}

/// Tarjan's strongly connected components of more than one file.
fn strongly_connected(
    edges: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flat_map(|m| m.keys()) {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let low = s.low[v].min(s.low[w.as_str()]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w.as_str()) {
                let low = s.low[v].min(s.index[w.as_str()]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.insert(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    let nodes: Vec<&str> = edges.keys().map(String::as_str).collect();
    for v in nodes {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}
