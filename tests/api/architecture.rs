//! The house keeps standing: these tests read `src/` and fail on what the layout forbids (README, "Architecture").
//!
//! - no import cycle between the crate's top-level modules (what `../shared/tools/module_cycles.py` reports);
//! - the layers point down: the core imports nothing of the crate and neither actix nor diesel; nothing below the
//!   resources imports a resource, the route table, the server or the command line;
//! - handlers never write SQL (no diesel in a file with `#[utoipa::path]`), stores never see HTTP;
//! - no source file above 700 lines.
//!
//! `#[cfg(test)]` modules are left out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
const MAX_LINES: usize = 700;

/// The layers below the resources, each with the top-level modules it may import.
const LOWER: &[(&str, &[&str])] = &[
    ("core", &[]),
    ("error", &["core"]),
    ("config", &["core"]),
    ("db", &["core", "error", "config"]),
    ("auth", &["core", "error", "config", "db"]),
    ("clamav", &[]),
    ("mail", &[]),
    ("state", &["core", "config", "db", "auth", "clamav", "mail"]),
    ("audit", &["core", "error", "db"]),
    ("http", &["core", "error", "config", "db", "auth", "state", "audit"]),
    ("files", &["core", "error", "db", "audit", "clamav"]),
    ("vocabulary", &["core", "error", "db"]),
];

/// Modules above the resources: they assemble the service and may import anything (but are imported by nothing
/// below them).
const TOP: &[&str] = &["routes", "server", "cli"];

struct Source {
    path: PathBuf,
    /// The file's text without `#[cfg(test)]` modules and line comments.
    code: String,
    lines: usize,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(Path::new(SRC), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let lines = text.lines().count();
            let without_tests = match text.find("#[cfg(test)]") {
                Some(cut) => &text[..cut],
                None => &text[..],
            };
            let code = without_tests
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            Source { path, code, lines }
        })
        .collect()
}

/// The top-level module a file belongs to (`src/http/extract.rs` → `http`); `None` for `lib.rs` and `main.rs`.
fn top_module(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(SRC).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib" && name != "main").then_some(name)
}

/// The crate's top-level modules a piece of code names: `crate::x::...` and the members of `use crate::{x, y}`.
fn imports(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found.retain(|m| modules.contains(m));
    found
}

/// The import graph between top-level modules.
fn graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = sources.iter().filter_map(|s| top_module(&s.path)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for s in sources {
        let Some(from) = top_module(&s.path) else { continue };
        for to in imports(&s.code, &modules) {
            if to != from {
                edges.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    edges
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn strong<'a>(v: &'a str, st: &mut State<'a>) {
        st.index.insert(v, st.next);
        st.low.insert(v, st.next);
        st.next += 1;
        st.stack.push(v);
        st.on_stack.insert(v);
        for w in &st.edges[v] {
            let w = w.as_str();
            if !st.index.contains_key(w) {
                strong(w, st);
                let low = st.low[v].min(st.low[w]);
                st.low.insert(v, low);
            } else if st.on_stack.contains(w) {
                let low = st.low[v].min(st.index[w]);
                st.low.insert(v, low);
            }
        }
        if st.low[v] == st.index[v] {
            let mut component = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                st.found.push(component);
            }
        }
    }
    let mut st = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !st.index.contains_key(v.as_str()) {
            strong(v, &mut st);
        }
    }
    st.found
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let edges: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
            .collect();
    assert_eq!(cycles(&edges), vec![vec!["a".to_owned(), "b".into(), "c".into()]]);
    let modules: BTreeSet<String> = ["http", "core", "audit"].into_iter().map(str::to_owned).collect();
    let found = imports(
        "use crate::{audit, core::identity::Caller};\nlet x = crate::http::x();",
        &modules,
    );
    assert_eq!(found, modules);
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let cycles = cycles(&graph(&sources()));
    assert!(cycles.is_empty(), "import cycles between top-level modules: {cycles:?}");
}

#[test]
fn layers_point_down() {
    let sources = sources();
    let edges = graph(&sources);
    let lower: BTreeMap<&str, &[&str]> = LOWER.iter().copied().collect();
    let mut wrong = Vec::new();
    for (from, tos) in &edges {
        if let Some(allowed) = lower.get(from.as_str()) {
            for to in tos {
                if !allowed.contains(&to.as_str()) {
                    wrong.push(format!("{from} imports {to}"));
                }
            }
        } else if !TOP.contains(&from.as_str()) {
            // A resource (or the seed, health, metrics): it may import the lower layers and other resources,
            // never what assembles the service.
            for to in tos {
                if TOP.contains(&to.as_str()) {
                    wrong.push(format!("{from} imports {to}"));
                }
            }
        }
    }
    for s in sources
        .iter()
        .filter(|s| top_module(&s.path).as_deref() == Some("core"))
    {
        for framework in ["actix_web", "diesel"] {
            if s.code.contains(framework) {
                wrong.push(format!("{} uses {framework}", s.path.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn handlers_write_no_sql_and_stores_see_no_http() {
    let mut wrong = Vec::new();
    for s in sources() {
        let name = s.path.file_name().unwrap().to_str().unwrap();
        let is_store = name == "store.rs" || s.path.components().any(|c| c.as_os_str() == "store");
        if s.code.contains("#[utoipa::path") && s.code.contains("diesel") {
            wrong.push(format!("{}: handlers with diesel", s.path.display()));
        }
        if is_store {
            for http in ["actix_web", "HttpRequest", "HttpResponse", "web::"] {
                if s.code.contains(http) {
                    wrong.push(format!("{}: a store with {http}", s.path.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_source_file_is_above_700_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|s| s.lines > MAX_LINES)
        .map(|s| format!("{} ({} lines)", s.path.display(), s.lines))
        .collect();
    assert!(long.is_empty(), "split these along sub-resources or concerns: {long:?}");
}

/// utoipa names a schema component after its Rust type, and two types of one name overwrite each other in the
/// document silently (a recovery claim's waiver once replaced the notice's, and the notice's `waive-objection`
/// showed a `reason` field it refuses). Every type that derives `ToSchema` or is made by `text_enum!` has a name of
/// its own.
#[test]
fn schema_names_are_unique() {
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut clashes = Vec::new();
    for source in sources() {
        let lines: Vec<&str> = source.code.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let schema_derive = line.contains("ToSchema") && line.contains("derive(");
            let text_enum = line.contains("text_enum!");
            if !schema_derive && !text_enum {
                continue;
            }
            let name = lines[i + 1..].iter().take(60).find_map(|l| {
                let l = l.trim_start();
                ["pub struct ", "pub enum ", "struct ", "enum "]
                    .iter()
                    .find_map(|p| l.strip_prefix(p))
                    .map(|rest| {
                        rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap_or("")
                            .to_owned()
                    })
            });
            if let Some(name) = name.filter(|n| !n.is_empty())
                && let Some(other) = seen.insert(name.clone(), source.path.clone())
            {
                clashes.push(format!("{name}: {} and {}", other.display(), source.path.display()));
            }
        }
    }
    assert!(clashes.is_empty(), "schema names used twice: {clashes:#?}");
    // The scan finds the schema types (a broken scan would pass vacuously).
    assert!(
        seen.contains_key("NoticeStatus") && seen.contains_key("GrantNotice") && seen.len() > 80,
        "{seen:?}"
    );
}
