//! The path under which the crate that uses the derive reaches the client:
//! `::odoo_integration_client` when it depends on the client, or
//! `::odoo_integration::odoo` when it depends on the facade, under whatever
//! name its `Cargo.toml` gives the dependency.
//!
//! Cargo tells a proc macro nothing about the crate it expands in except
//! the environment of the compiler, whose `CARGO_MANIFEST_DIR` names the
//! package's directory; the manifest there says which of the two crates
//! the package depends on. When there is no manifest to read (a build
//! without cargo) or it names neither crate, the path is
//! `::odoo_integration_client`, and `#[odoo(crate = "...")]` says
//! otherwise.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use toml::{Table, Value};

const CLIENT: &str = "odoo-integration-client";
const FACADE: &str = "odoo-integration";

/// How the using crate reaches the client.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// A dependency on the client, by this extern name.
    Client(String),
    /// A dependency on the facade, by this extern name: the client is its
    /// `odoo` module.
    Facade(String),
}

/// The tokens of the path to the client crate's root, for the crate being
/// compiled.
pub(crate) fn client_path() -> TokenStream {
    let found = std::env::var_os("CARGO_MANIFEST_DIR").and_then(|dir| find(Path::new(&dir)));
    let ident = |name: &str| syn::parse_str::<syn::Ident>(name).ok();
    match found {
        Some(Found::Client(name)) => {
            if let Some(name) = ident(&name) {
                return quote!(::#name);
            }
        }
        Some(Found::Facade(name)) => {
            if let Some(name) = ident(&name) {
                return quote!(::#name::odoo);
            }
        }
        None => {}
    }
    let client = syn::Ident::new("odoo_integration_client", Span::call_site());
    quote!(::#client)
}

/// What the package in `dir` depends on: first its `[dependencies]`, which
/// every target of the package sees; then the package itself (the client's
/// own tests and doctests); then its `[dev-dependencies]`. The client
/// before the facade at each step.
fn find(dir: &Path) -> Option<Found> {
    let manifest = read(&dir.join("Cargo.toml"))?;
    let mut workspace = Workspace::new(dir, &manifest);

    let normal = dependency_tables(&manifest, &["dependencies"]);
    if let Some(found) = search(&normal, &mut workspace) {
        return Some(found);
    }
    let package = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str);
    match package {
        Some(CLIENT) => return Some(Found::Client(extern_name(CLIENT))),
        Some(FACADE) => return Some(Found::Facade(extern_name(FACADE))),
        _ => {}
    }
    let dev = dependency_tables(&manifest, &["dev-dependencies", "dev_dependencies"]);
    search(&dev, &mut workspace)
}

fn read(path: &Path) -> Option<Table> {
    std::fs::read_to_string(path).ok()?.parse().ok()
}

/// The tables called `names` at the top of the manifest and under each
/// `[target.'cfg(...)']` (whatever the target: a dependency for another
/// platform is a sign of the name all the same).
fn dependency_tables<'a>(manifest: &'a Table, names: &[&str]) -> Vec<&'a Table> {
    let mut tables = Vec::new();
    let mut push = |t: &'a Table| {
        for name in names {
            if let Some(deps) = t.get(*name).and_then(Value::as_table) {
                tables.push(deps);
            }
        }
    };
    push(manifest);
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for target in targets.values().filter_map(Value::as_table) {
            push(target);
        }
    }
    tables
}

fn search(tables: &[&Table], workspace: &mut Workspace) -> Option<Found> {
    let mut facade = None;
    for deps in tables {
        for (key, entry) in deps.iter() {
            match package_name(key, entry, workspace).as_str() {
                CLIENT => return Some(Found::Client(extern_name(key))),
                FACADE if facade.is_none() => facade = Some(Found::Facade(extern_name(key))),
                _ => {}
            }
        }
    }
    facade
}

/// The name of the package behind the dependency `key`: its `package` key
/// when renamed, in the workspace's `[workspace.dependencies]` when
/// inherited with `workspace = true`, or the key itself.
fn package_name(key: &str, entry: &Value, workspace: &mut Workspace) -> String {
    if let Some(entry) = entry.as_table() {
        if let Some(package) = entry.get("package").and_then(Value::as_str) {
            return package.to_owned();
        }
        if entry.get("workspace").and_then(Value::as_bool) == Some(true)
            && let Some(package) = workspace.package_of(key)
        {
            return package;
        }
    }
    key.to_owned()
}

/// The name a dependency has in Rust code: its key, `-` made `_`.
fn extern_name(key: &str) -> String {
    key.replace('-', "_")
}

/// The workspace manifest, read only when a dependency inherits from it.
struct Workspace {
    /// Where to look for it: the path `package.workspace` gives, or the
    /// package's directory and its ancestors.
    start: PathBuf,
    explicit: bool,
    /// The package's own manifest, when it is the workspace root too.
    own: Option<Table>,
    loaded: Option<Option<Table>>,
}

impl Workspace {
    fn new(dir: &Path, manifest: &Table) -> Self {
        let explicit = manifest
            .get("package")
            .and_then(|p| p.get("workspace"))
            .and_then(Value::as_str);
        let own = manifest.contains_key("workspace").then(|| manifest.clone());
        Workspace {
            start: explicit.map_or_else(|| dir.to_path_buf(), |w| dir.join(w)),
            explicit: explicit.is_some(),
            own,
            loaded: None,
        }
    }

    fn manifest(&mut self) -> Option<&Table> {
        if self.loaded.is_none() {
            let found = self.own.take().or_else(|| {
                if self.explicit {
                    let path = if self.start.ends_with("Cargo.toml") {
                        self.start.clone()
                    } else {
                        self.start.join("Cargo.toml")
                    };
                    read(&path).filter(|t| t.contains_key("workspace"))
                } else {
                    self.start
                        .ancestors()
                        .skip(1)
                        .filter_map(|dir| read(&dir.join("Cargo.toml")))
                        .find(|t| t.contains_key("workspace"))
                }
            });
            self.loaded = Some(found);
        }
        self.loaded.as_ref().and_then(Option::as_ref)
    }

    /// The package behind `[workspace.dependencies] key`.
    fn package_of(&mut self, key: &str) -> Option<String> {
        let entry = self
            .manifest()?
            .get("workspace")?
            .get("dependencies")?
            .get(key)?;
        let package = entry
            .as_table()
            .and_then(|t| t.get("package"))
            .and_then(Value::as_str)
            .unwrap_or(key);
        Some(package.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::{Found, find};
    use std::path::{Path, PathBuf};

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!(
                "odoo-derive-manifest-{}-{name}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            Dir(dir)
        }
        fn write(&self, path: &str, text: &str) -> &Dir {
            let path = self.0.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("dir");
            }
            std::fs::write(path, text).expect("write");
            self
        }
        fn path(&self, sub: &str) -> PathBuf {
            self.0.join(sub)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn client(name: &str) -> Option<Found> {
        Some(Found::Client(name.to_owned()))
    }
    fn facade(name: &str) -> Option<Found> {
        Some(Found::Facade(name.to_owned()))
    }

    #[test]
    fn the_client_the_facade_or_neither() {
        let d = Dir::new("plain");
        d.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n[dependencies]\nodoo-integration-client = \"0.2\"\n",
        );
        assert_eq!(find(&d.0), client("odoo_integration_client"));
        d.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n[dependencies]\nodoo-integration = { version = \"0.2\", features = [\"full\"] }\n",
        );
        assert_eq!(find(&d.0), facade("odoo_integration"));
        d.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n[dependencies]\nserde = \"1\"\n",
        );
        assert_eq!(find(&d.0), None);
        assert_eq!(find(&d.path("missing")), None);
        d.write("Cargo.toml", "this is not toml [");
        assert_eq!(find(&d.0), None);
    }

    #[test]
    fn both_prefer_the_client_and_normal_dependencies_win_over_dev_ones() {
        let d = Dir::new("both");
        d.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n\
             [dependencies]\nodoo-integration = \"0.2\"\n\
             [dev-dependencies]\nodoo-integration-client = \"0.2\"\n",
        );
        assert_eq!(find(&d.0), facade("odoo_integration"));
        d.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n\
             [dependencies]\nodoo-integration = \"0.2\"\nodoo-integration-client = \"0.2\"\n",
        );
        assert_eq!(find(&d.0), client("odoo_integration_client"));
        d.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n\
             [dev-dependencies]\nodoo-integration = \"0.2\"\n",
        );
        assert_eq!(find(&d.0), facade("odoo_integration"));
    }

    #[test]
    fn renamed_target_specific_and_the_packages_themselves() {
        let d = Dir::new("renamed");
        d.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n\
             [dependencies.erp]\npackage = \"odoo-integration\"\nversion = \"0.2\"\n",
        );
        assert_eq!(find(&d.0), facade("erp"));
        d.write(
            "Cargo.toml",
            "[package]\nname = \"app\"\n\
             [target.'cfg(unix)'.dependencies]\nodoo = { package = \"odoo-integration-client\", version = \"0.2\" }\n",
        );
        assert_eq!(find(&d.0), client("odoo"));
        d.write(
            "Cargo.toml",
            "[package]\nname = \"odoo-integration-client\"\n",
        );
        assert_eq!(find(&d.0), client("odoo_integration_client"));
        d.write("Cargo.toml", "[package]\nname = \"odoo-integration\"\n");
        assert_eq!(find(&d.0), facade("odoo_integration"));
    }

    #[test]
    fn inherited_from_the_workspace() {
        let d = Dir::new("workspace");
        d.write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\"]\n\
             [workspace.dependencies]\nerp = { package = \"odoo-integration-client\", version = \"0.2\" }\n",
        );
        d.write(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\n[dependencies]\nerp.workspace = true\n",
        );
        assert_eq!(find(&d.path("app")), client("erp"));
        // Not renamed in the workspace: the key is the package.
        d.write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\"]\n\
             [workspace.dependencies]\nodoo-integration = \"0.2\"\n",
        );
        d.write(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\n[dependencies]\nodoo-integration = { workspace = true }\n",
        );
        assert_eq!(find(&d.path("app")), facade("odoo_integration"));
        // A workspace named by `package.workspace`.
        d.write(
            "elsewhere/Cargo.toml",
            "[workspace]\n[workspace.dependencies]\nodoo = { package = \"odoo-integration\", version = \"0.2\" }\n",
        );
        d.write(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nworkspace = \"../elsewhere\"\n[dependencies]\nodoo.workspace = true\n",
        );
        assert_eq!(find(&d.path("app")), facade("odoo"));
    }

    #[test]
    fn this_repository() {
        // The facade's own examples reach the client directly.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        assert_eq!(find(&root), client("odoo_integration_client"));
        assert_eq!(
            find(&root.join("odoo-client")),
            client("odoo_integration_client")
        );
    }
}
