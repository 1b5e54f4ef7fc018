//! The config file: systems, a state store, pipelines, policies; every
//! mistake named by its line and column.

use odoo_integration_model::Policy;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A config file that could not be used: where (the file, and the line
/// and column when the mistake has one) and what.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::cli::Config;
/// let err = Config::from_toml("[state]\nurl = \"memory:\"\nurll = \"x\"\n", "sync.toml").unwrap_err();
/// assert_eq!((err.line(), err.column()), (Some(3), Some(1)));
/// assert!(err.to_string().starts_with("sync.toml:3:1: unknown field `urll`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    file: String,
    at: Option<(usize, usize)>,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(
        file: impl Into<String>,
        at: Option<(usize, usize)>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            file: file.into(),
            at,
            message: message.into(),
        }
    }

    /// The line (1-based), when the mistake has one.
    ///
    /// # Example
    ///
    /// See [`ConfigError`].
    pub fn line(&self) -> Option<usize> {
        self.at.map(|(l, _)| l)
    }

    /// The column (1-based, in characters), when the mistake has one.
    ///
    /// # Example
    ///
    /// See [`ConfigError`].
    pub fn column(&self) -> Option<usize> {
        self.at.map(|(_, c)| c)
    }

    /// What is wrong, without the place.
    ///
    /// # Example
    ///
    /// ```
    /// let err = odoo_integration_connectors::cli::Config::from_toml("", "sync.toml").unwrap_err();
    /// assert_eq!(err.message(), "missing field `state`");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A value with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located<T> {
    pub(crate) value: T,
    pub(crate) at: (usize, usize),
}

/// The 1-based line and column of byte `offset` in `src`.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(src.len());
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    let before = &src[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    (line, column)
}

// ----- the file as written -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    state: Spanned<RawState>,
    #[serde(default)]
    policy: Option<Spanned<String>>,
    #[serde(default)]
    systems: BTreeMap<String, Spanned<RawSystem>>,
    #[serde(default)]
    pipeline: Vec<Spanned<RawPipeline>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    url: Spanned<String>,
    #[serde(default)]
    password_env: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    kind: Spanned<String>,
    url: Option<Spanned<String>>,
    database: Option<Spanned<String>>,
    login: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    api_key_env: Option<Spanned<String>>,
    protocol: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
    settle: Option<Spanned<String>>,
    sync_property: Option<Spanned<String>>,
    client_id_env: Option<Spanned<String>>,
    client_secret_env: Option<Spanned<String>>,
    company: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    refresh_token_env: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    name: Spanned<String>,
    entity: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default)]
    policy: Option<Spanned<String>>,
    #[serde(default)]
    batch_size: Option<Spanned<i64>>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    after: Vec<Spanned<String>>,
}

// ----- the config as used -----

/// Which kind of system a `[systems.NAME]` table is.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::cli::{Config, SystemKind};
/// let config = Config::from_toml(r#"
/// [state]
/// url = "memory:"
/// [systems.crm]
/// kind = "hubspot"
/// token_env = "HUBSPOT_TOKEN"
/// "#, "sync.toml")?;
/// assert_eq!(config.system_kind("crm"), Some(SystemKind::HubSpot));
/// # Ok::<(), odoo_integration_connectors::cli::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SystemKind {
    /// `odoo`: `url`, `database`, `login`, `api_key_env` or
    /// `password_env`, `protocol` (`auto`, `json2`, `jsonrpc`, `xmlrpc`).
    Odoo,
    /// `hubspot`: `token_env`, `url` (default HubSpot's API), `settle`,
    /// `sync_property`.
    HubSpot,
    /// `salesforce`: `url` (the login URL, your My Domain),
    /// `client_id_env`, `client_secret_env` (client credentials flow).
    Salesforce,
    /// `bamboohr`: `company` (the subdomain), `api_key_env`, `url`,
    /// `settle`.
    BambooHr,
    /// `gusto`: `company` (the company uuid), `client_id_env`,
    /// `client_secret_env`, `token_file` (where the rotating tokens are
    /// kept), `refresh_token_env` (the first refresh token, used while the
    /// file does not exist), `url`.
    Gusto,
}

impl SystemKind {
    fn parse(s: &str) -> Option<SystemKind> {
        Some(match s {
            "odoo" => SystemKind::Odoo,
            "hubspot" => SystemKind::HubSpot,
            "salesforce" => SystemKind::Salesforce,
            "bamboohr" => SystemKind::BambooHr,
            "gusto" => SystemKind::Gusto,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            SystemKind::Odoo => "odoo",
            SystemKind::HubSpot => "hubspot",
            SystemKind::Salesforce => "salesforce",
            SystemKind::BambooHr => "bamboohr",
            SystemKind::Gusto => "gusto",
        }
    }

    /// The fields a system of this kind takes (besides `kind`).
    fn fields(self) -> &'static [&'static str] {
        match self {
            SystemKind::Odoo => &[
                "url",
                "database",
                "login",
                "password_env",
                "api_key_env",
                "protocol",
            ],
            SystemKind::HubSpot => &["url", "token_env", "settle", "sync_property"],
            SystemKind::Salesforce => &["url", "client_id_env", "client_secret_env"],
            SystemKind::BambooHr => &["url", "company", "api_key_env", "settle"],
            SystemKind::Gusto => &[
                "url",
                "company",
                "client_id_env",
                "client_secret_env",
                "token_file",
                "refresh_token_env",
            ],
        }
    }

    /// The fields it cannot do without.
    fn required(self) -> &'static [&'static str] {
        match self {
            SystemKind::Odoo => &["url", "login"],
            SystemKind::HubSpot => &["token_env"],
            SystemKind::Salesforce => &["url", "client_id_env", "client_secret_env"],
            SystemKind::BambooHr => &["company", "api_key_env"],
            SystemKind::Gusto => &[
                "company",
                "client_id_env",
                "client_secret_env",
                "token_file",
            ],
        }
    }
}

impl fmt::Display for SystemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `[systems.NAME]` table.
#[derive(Debug, Clone)]
pub(crate) struct SystemConfig {
    pub(crate) kind: SystemKind,
    /// Where its table starts.
    pub(crate) at: (usize, usize),
    /// Every field given, by name: its value and place.
    pub(crate) fields: HashMap<&'static str, Located<String>>,
}

impl SystemConfig {
    pub(crate) fn get(&self, field: &str) -> Option<&Located<String>> {
        self.fields.get(field)
    }
}

/// One `[[pipeline]]`.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::cli::Config;
/// let config = Config::from_toml(r#"
/// [state]
/// url = "memory:"
/// [systems.crm]
/// kind = "hubspot"
/// token_env = "HUBSPOT_TOKEN"
/// [systems.erp]
/// kind = "odoo"
/// url = "https://erp.example.com"
/// login = "sync"
/// api_key_env = "ODOO_API_KEY"
/// [[pipeline]]
/// name = "clients"
/// entity = "client"
/// from = "crm"
/// to = "erp"
/// interval = "10m"
/// "#, "sync.toml")?;
/// let p = &config.pipelines()[0];
/// assert_eq!((p.name.as_str(), p.entity.as_str(), p.batch_size), ("clients", "client", 100));
/// assert_eq!(p.interval, std::time::Duration::from_secs(600));
/// # Ok::<(), odoo_integration_connectors::cli::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PipelineConfig {
    /// Its name, also its checkpoint key.
    pub name: String,
    /// The canonical entity (`client`, `contact`, `employee`, ...).
    pub entity: String,
    /// The source system's name.
    pub from: String,
    /// The sink system's name.
    pub to: String,
    /// Its ownership policy file (resolved against the config's folder),
    /// or the config's `policy`.
    pub policy: Option<PathBuf>,
    /// Changes per page and records per write (default 100).
    pub batch_size: usize,
    /// How often `run` runs it (default 5 minutes).
    pub interval: Duration,
    /// Pipelines that run before it in each round.
    pub after: Vec<String>,
    /// The line of its `[[pipeline]]`.
    pub line: usize,
}

/// A loaded and checked config file.
///
/// ```toml
/// [state]
/// url = "file:state"            # memory:, file:DIR, sqlite:PATH, postgres://...
/// # password_env = "PGPASSWORD" # postgres: the password, from the environment
///
/// policy = "policy.toml"        # every pipeline's, unless it names its own
///
/// [systems.crm]
/// kind = "hubspot"
/// token_env = "HUBSPOT_TOKEN"
///
/// [systems.erp]
/// kind = "odoo"
/// url = "https://erp.example.com"
/// database = "prod"
/// login = "sync@example.com"
/// api_key_env = "ODOO_API_KEY"
///
/// [[pipeline]]
/// name = "crm→erp/client"
/// entity = "client"
/// from = "crm"
/// to = "erp"
/// batch_size = 200
/// interval = "5m"
///
/// [[pipeline]]
/// name = "crm→erp/contact"
/// entity = "contact"
/// from = "crm"
/// to = "erp"
/// after = ["crm→erp/client"]
/// ```
///
/// Secrets are never in the file: each `*_env` field names the
/// environment variable that holds one, read when the system is built.
/// Unknown fields, unknown systems, entities and pipelines, a field that
/// does not apply to a system's kind, a cycle of `after`, a policy file
/// with mistakes: each is an error naming its line and column.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::cli::Config;
/// let err = Config::from_toml(r#"
/// [state]
/// url = "memory:"
/// [systems.crm]
/// kind = "hubspot"
/// token_env = "HUBSPOT_TOKEN"
/// [[pipeline]]
/// name = "clients"
/// entity = "client"
/// from = "crm"
/// to = "erp"
/// "#, "sync.toml").unwrap_err();
/// assert_eq!(err.to_string(), "sync.toml:11:6: unknown system `erp` (the config has: crm)");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    file: String,
    dir: PathBuf,
    pub(crate) state: Located<String>,
    pub(crate) state_password_env: Option<Located<String>>,
    pub(crate) systems: BTreeMap<String, SystemConfig>,
    pipelines: Vec<PipelineConfig>,
    /// The policies by file, loaded and checked.
    pub(crate) policies: HashMap<PathBuf, Policy>,
}

impl Config {
    /// Reads and checks the config file at `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be read; any mistake [`from_toml`](Self::from_toml)
    /// finds; a policy file that cannot be read or has mistakes.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("sync.toml");
    /// std::fs::write(&path, "[state]\nurl = \"file:state\"\n")?;
    /// let config = odoo_integration_connectors::cli::Config::load(&path)?;
    /// assert!(config.pipelines().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(&file, None, format!("cannot read the config file: {e}"))
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::parse(&src, file, dir)
    }

    /// Checks a config given as text; `file` names it in errors, and
    /// relative paths in it are taken from the current folder.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the line and column of the first mistake.
    ///
    /// # Example
    ///
    /// See [`Config`].
    pub fn from_toml(src: &str, file: &str) -> Result<Config, ConfigError> {
        Config::parse(src, file.to_owned(), PathBuf::new())
    }

    fn parse(src: &str, file: String, dir: PathBuf) -> Result<Config, ConfigError> {
        let at = |span: std::ops::Range<usize>| Some(line_col(src, span.start));
        let raw: RawConfig = toml::from_str(src).map_err(|e| {
            ConfigError::new(
                &file,
                e.span().and_then(&at),
                e.message().trim_end().to_owned(),
            )
        })?;
        let err = |span: std::ops::Range<usize>, message: String| {
            ConfigError::new(&file, at(span), message)
        };
        let located = |s: &Spanned<String>| Located {
            value: s.get_ref().clone(),
            at: line_col(src, s.span().start),
        };

        // The state store.
        let state = raw.state.into_inner();
        let state_url = located(&state.url);
        let scheme_ok = [
            "memory:",
            "file:",
            "sqlite:",
            "postgres://",
            "postgresql://",
        ]
        .iter()
        .any(|p| state_url.value.starts_with(p));
        if !scheme_ok {
            return Err(err(
                state.url.span(),
                "the state store URL must start with memory:, file:, sqlite:, postgres:// or postgresql://".into(),
            ));
        }
        let state_password_env = state.password_env.as_ref().map(located);

        // The systems.
        let mut systems = BTreeMap::new();
        for (name, spanned) in &raw.systems {
            let table_at = line_col(src, spanned.span().start);
            let s = spanned.get_ref();
            let Some(kind) = SystemKind::parse(s.kind.get_ref()) else {
                return Err(err(
                    s.kind.span(),
                    format!(
                        "unknown system kind `{}`, expected odoo, hubspot, salesforce, bamboohr or gusto",
                        s.kind.get_ref()
                    ),
                ));
            };
            let given: [(&'static str, &Option<Spanned<String>>); 14] = [
                ("url", &s.url),
                ("database", &s.database),
                ("login", &s.login),
                ("password_env", &s.password_env),
                ("api_key_env", &s.api_key_env),
                ("protocol", &s.protocol),
                ("token_env", &s.token_env),
                ("settle", &s.settle),
                ("sync_property", &s.sync_property),
                ("client_id_env", &s.client_id_env),
                ("client_secret_env", &s.client_secret_env),
                ("company", &s.company),
                ("token_file", &s.token_file),
                ("refresh_token_env", &s.refresh_token_env),
            ];
            let mut fields = HashMap::new();
            for (field, value) in given {
                let Some(value) = value else { continue };
                if !kind.fields().contains(&field) {
                    return Err(err(
                        value.span(),
                        format!(
                            "`{field}` does not apply to a {kind} system (it takes: {})",
                            kind.fields().join(", ")
                        ),
                    ));
                }
                fields.insert(field, located(value));
            }
            for field in kind.required() {
                if !fields.contains_key(field) {
                    return Err(ConfigError::new(
                        &file,
                        Some(table_at),
                        format!("system `{name}` ({kind}) needs `{field}`"),
                    ));
                }
            }
            if kind == SystemKind::Odoo {
                match (fields.get("api_key_env"), fields.get("password_env")) {
                    (Some(_), Some(p)) => {
                        return Err(ConfigError::new(
                            &file,
                            Some(p.at),
                            "give `api_key_env` or `password_env`, not both",
                        ));
                    }
                    (None, None) => {
                        return Err(ConfigError::new(
                            &file,
                            Some(table_at),
                            format!("system `{name}` (odoo) needs `api_key_env` or `password_env`"),
                        ));
                    }
                    _ => {}
                }
                if let Some(p) = fields.get("protocol")
                    && !["auto", "json2", "jsonrpc", "xmlrpc"].contains(&p.value.as_str())
                {
                    return Err(ConfigError::new(
                        &file,
                        Some(p.at),
                        format!(
                            "unknown protocol `{}`, expected auto, json2, jsonrpc or xmlrpc",
                            p.value
                        ),
                    ));
                }
            }
            if let Some(settle) = fields.get("settle") {
                parse_duration(&settle.value)
                    .map_err(|m| ConfigError::new(&file, Some(settle.at), m))?;
            }
            systems.insert(
                name.clone(),
                SystemConfig {
                    kind,
                    at: table_at,
                    fields,
                },
            );
        }

        // The policies: the default one, and each pipeline's.
        let mut policies = HashMap::new();
        let mut load_policy = |p: &Spanned<String>| -> Result<PathBuf, ConfigError> {
            let path = dir.join(p.get_ref());
            if !policies.contains_key(&path) {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    err(
                        p.span(),
                        format!("cannot read the policy file `{}`: {e}", path.display()),
                    )
                })?;
                let policy = load_policy_text(&path, &text)
                    .map_err(|e| err(p.span(), format!("the policy file has mistakes:\n{}", e)))?;
                policies.insert(path.clone(), policy);
            }
            Ok(path)
        };
        let default_policy = raw.policy.as_ref().map(&mut load_policy).transpose()?;

        // The pipelines.
        let names: Vec<String> = raw
            .pipeline
            .iter()
            .map(|p| p.get_ref().name.get_ref().clone())
            .collect();
        let mut pipelines = Vec::new();
        for (i, spanned) in raw.pipeline.iter().enumerate() {
            let p = spanned.get_ref();
            let name = p.name.get_ref();
            if name.trim().is_empty() {
                return Err(err(p.name.span(), "a pipeline needs a name".into()));
            }
            if names[..i].contains(name) {
                return Err(err(
                    p.name.span(),
                    format!("a second pipeline named `{name}`"),
                ));
            }
            if !odoo_integration_model::entity_names().contains(&p.entity.get_ref().as_str()) {
                return Err(err(
                    p.entity.span(),
                    format!(
                        "unknown entity `{}` (known: {})",
                        p.entity.get_ref(),
                        odoo_integration_model::entity_names().join(", ")
                    ),
                ));
            }
            for end in [&p.from, &p.to] {
                if !systems.contains_key(end.get_ref()) {
                    let known: Vec<&str> = systems.keys().map(String::as_str).collect();
                    return Err(err(
                        end.span(),
                        format!(
                            "unknown system `{}` (the config has: {})",
                            end.get_ref(),
                            known.join(", ")
                        ),
                    ));
                }
            }
            if p.from.get_ref() == p.to.get_ref() {
                return Err(err(
                    p.to.span(),
                    "a pipeline's `from` and `to` must differ".into(),
                ));
            }
            for a in &p.after {
                if !names.contains(a.get_ref()) {
                    return Err(err(
                        a.span(),
                        format!("unknown pipeline `{}` in `after`", a.get_ref()),
                    ));
                }
                if a.get_ref() == name {
                    return Err(err(a.span(), "a pipeline cannot run after itself".into()));
                }
            }
            let batch_size = match &p.batch_size {
                None => 100,
                Some(b) => usize::try_from(*b.get_ref())
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| {
                        err(b.span(), "`batch_size` must be between 1 and 10000".into())
                    })?,
            };
            let interval = match &p.interval {
                None => Duration::from_secs(300),
                Some(s) => {
                    let d = parse_duration(s.get_ref()).map_err(|m| err(s.span(), m))?;
                    if d.is_zero() {
                        return Err(err(s.span(), "`interval` must be more than zero".into()));
                    }
                    d
                }
            };
            let policy = match &p.policy {
                Some(path) => Some(load_policy(path)?),
                None => default_policy.clone(),
            };
            pipelines.push(PipelineConfig {
                name: name.clone(),
                entity: p.entity.get_ref().clone(),
                from: p.from.get_ref().clone(),
                to: p.to.get_ref().clone(),
                policy,
                batch_size,
                interval,
                after: p.after.iter().map(|a| a.get_ref().clone()).collect(),
                line: line_col(src, spanned.span().start).0,
            });
        }
        let config = Config {
            file,
            dir,
            state: state_url,
            state_password_env,
            systems,
            pipelines,
            policies,
        };
        config.order(
            &config
                .pipelines
                .iter()
                .map(|p| p.name.clone())
                .collect::<Vec<_>>(),
        )?;
        Ok(config)
    }

    /// The file, as errors name it.
    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    /// The folder relative paths are taken from.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pipelines, in file order.
    ///
    /// # Example
    ///
    /// See [`PipelineConfig`].
    pub fn pipelines(&self) -> &[PipelineConfig] {
        &self.pipelines
    }

    /// The pipeline named `name`.
    ///
    /// # Example
    ///
    /// ```
    /// let config = odoo_integration_connectors::cli::Config::from_toml("[state]\nurl = \"memory:\"\n", "sync.toml")?;
    /// assert!(config.pipeline("clients").is_none());
    /// # Ok::<(), odoo_integration_connectors::cli::ConfigError>(())
    /// ```
    pub fn pipeline(&self, name: &str) -> Option<&PipelineConfig> {
        self.pipelines.iter().find(|p| p.name == name)
    }

    /// The kind of the system named `name`.
    ///
    /// # Example
    ///
    /// See [`SystemKind`].
    pub fn system_kind(&self, name: &str) -> Option<SystemKind> {
        self.systems.get(name).map(|s| s.kind)
    }

    /// The pipelines named (all when `names` is empty), with those they
    /// run after first (each pipeline's `after` among those asked for).
    ///
    /// # Errors
    ///
    /// A name no pipeline has; `after` going round in a cycle.
    ///
    /// # Example
    ///
    /// ```
    /// let config = odoo_integration_connectors::cli::Config::from_toml("[state]\nurl = \"memory:\"\n", "sync.toml")?;
    /// assert!(config.order(&["clients".to_owned()]).is_err());
    /// # Ok::<(), odoo_integration_connectors::cli::ConfigError>(())
    /// ```
    pub fn order(&self, names: &[String]) -> Result<Vec<&PipelineConfig>, ConfigError> {
        let chosen: Vec<&PipelineConfig> = if names.is_empty() {
            self.pipelines.iter().collect()
        } else {
            names
                .iter()
                .map(|n| {
                    self.pipeline(n).ok_or_else(|| {
                        let known: Vec<&str> =
                            self.pipelines.iter().map(|p| p.name.as_str()).collect();
                        ConfigError::new(
                            &self.file,
                            None,
                            format!(
                                "no pipeline named `{n}` (the config has: {})",
                                known.join(", ")
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?
        };
        let mut out: Vec<&PipelineConfig> = Vec::new();
        let mut left = chosen.clone();
        while !left.is_empty() {
            let ready = left.iter().position(|p| {
                p.after.iter().all(|a| {
                    out.iter().any(|o| o.name == *a) || !chosen.iter().any(|c| c.name == *a)
                })
            });
            match ready {
                Some(i) => out.push(left.remove(i)),
                None => {
                    let p = left[0];
                    return Err(ConfigError::new(
                        &self.file,
                        Some((p.line, 1)),
                        format!(
                            "`after` goes round in a cycle through pipeline `{}`",
                            p.name
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// A policy file, TOML or JSON by its extension.
pub(crate) fn load_policy_text(
    path: &Path,
    text: &str,
) -> Result<Policy, odoo_integration_model::PolicyError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        Policy::from_json(text)
    } else {
        Policy::from_toml(text)
    }
}

/// `90s`, `5m`, `1h`, `1d`, `250ms`, or a number of seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (like 30s, 5m, 1h)"))?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{s}` is not a duration (like 30s, 5m, 1h)")),
    };
    n.checked_mul(unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("12"), Ok(Duration::from_secs(12)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("a\nbé\ncd", 6), (3, 1));
        assert_eq!(line_col("a\nbé\ncd", 4), (2, 2)); // inside `é`: its start
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
