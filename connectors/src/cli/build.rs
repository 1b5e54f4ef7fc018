//! From the config to live things: the state store, the connectors, the
//! pipelines.

use super::config::{Config, ConfigError, Located, PipelineConfig, SystemKind, parse_duration};
use crate::bamboohr::BambooHrConnector;
use crate::connector::{Sink, Source};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::gusto::{AppCredentials, GustoConnector, TokenStore, Tokens};
use crate::hubspot::HubSpotConnector;
use crate::odoo::OdooConnector;
use crate::pipeline::{Pipeline, RunSummary};
use crate::salesforce::{ConnectedApp, SalesforceConnector};
use crate::store::{FileStore, MemoryStore, SyncState};
use async_trait::async_trait;
use odoo_integration_client::{Client, Credentials, Protocol};
use odoo_integration_model::{
    Assignment, ClientCompany, Contact, Contract, Employee, Engagement, Entity, Expense, Invoice,
    InvoiceLine, MatchKey, Milestone, Opportunity, PayStatement, Payment, PayrollRun,
    Reconciliation, TimeOff, TimesheetEntry,
};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why something could not be built: the config (exit code 2) or the
/// world (a store, a system: exit code 1).
#[derive(Debug)]
pub(crate) enum BuildError {
    Config(ConfigError),
    Failed(ConnectorError),
}

impl From<ConfigError> for BuildError {
    fn from(e: ConfigError) -> Self {
        BuildError::Config(e)
    }
}

impl From<ConnectorError> for BuildError {
    fn from(e: ConnectorError) -> Self {
        BuildError::Failed(e)
    }
}

/// The secret in the environment variable a config field names.
fn secret(
    config: &Config,
    env: &Located<String>,
    what: &str,
) -> std::result::Result<SecretString, ConfigError> {
    match std::env::var(&env.value) {
        Ok(v) if !v.is_empty() => Ok(SecretString::from(v)),
        Ok(_) => Err(ConfigError::new(
            config.file(),
            Some(env.at),
            format!("{what}: the environment variable `{}` is empty", env.value),
        )),
        Err(_) => Err(ConfigError::new(
            config.file(),
            Some(env.at),
            format!(
                "{what}: the environment variable `{}` is not set",
                env.value
            ),
        )),
    }
}

/// Opens the state store the config's `[state] url` names: `memory:`,
/// `file:DIR`, `sqlite:PATH` (feature `sqlite`), `postgres://...`
/// (feature `postgres`; the password from `password_env` when given).
/// Relative paths are taken from the config file's folder.
///
/// # Errors
///
/// [`ConfigError`] for a URL this build cannot open, or a missing
/// password variable; the store's own error when it cannot be opened (a
/// file store another process holds: [`ConnectorErrorKind::Locked`]; a
/// database of a newer schema: [`ConnectorErrorKind::Store`]), which
/// leaves what it holds untouched.
pub(crate) async fn open_store(
    config: &Config,
) -> std::result::Result<Arc<dyn SyncState>, BuildError> {
    let url = &config.state;
    let v = url.value.as_str();
    let path = |rest: &str| -> PathBuf {
        let p = Path::new(rest);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            config.dir().join(p)
        }
    };
    if let Some(rest) = v.strip_prefix("memory:") {
        if !rest.is_empty() {
            return Err(ConfigError::new(
                config.file(),
                Some(url.at),
                "`memory:` takes nothing after it",
            )
            .into());
        }
        return Ok(Arc::new(MemoryStore::new()));
    }
    if let Some(rest) = v.strip_prefix("file:") {
        if rest.is_empty() {
            return Err(ConfigError::new(
                config.file(),
                Some(url.at),
                "`file:` needs a folder, as in file:state",
            )
            .into());
        }
        return Ok(Arc::new(FileStore::open(path(rest)).await?));
    }
    if let Some(rest) = v.strip_prefix("sqlite:") {
        #[cfg(feature = "sqlite")]
        {
            if rest.is_empty() {
                return Err(ConfigError::new(
                    config.file(),
                    Some(url.at),
                    "`sqlite:` needs a file, as in sqlite:state.db",
                )
                .into());
            }
            return Ok(Arc::new(crate::store::SqliteStore::open(path(rest)).await?));
        }
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = rest;
            return Err(ConfigError::new(
                config.file(),
                Some(url.at),
                "this build has no SQLite store (cargo feature `sqlite`)",
            )
            .into());
        }
    }
    #[cfg(feature = "postgres")]
    {
        let mut pg = crate::store::PostgresConfig::from_url(v)
            .map_err(|e| ConfigError::new(config.file(), Some(url.at), e.to_string()))?;
        if let Some(env) = &config.state_password_env {
            pg = pg.password(secret(config, env, "the state store's password")?);
        }
        Ok(Arc::new(crate::store::PostgresStore::open(pg).await?))
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = &config.state_password_env;
        Err(ConfigError::new(
            config.file(),
            Some(url.at),
            "this build has no PostgreSQL store (cargo feature `postgres`)",
        )
        .into())
    }
}

/// A built connector, by kind.
#[derive(Debug, Clone)]
pub(crate) enum System {
    Odoo(OdooConnector),
    HubSpot(HubSpotConnector),
    Salesforce(SalesforceConnector),
    BambooHr(BambooHrConnector),
    Gusto(GustoConnector),
}

/// Builds the connector of `[systems.NAME]`, reading its secrets from the
/// environment.
pub(crate) fn build_system(config: &Config, name: &str) -> std::result::Result<System, BuildError> {
    let Some(s) = config.systems.get(name) else {
        return Err(
            ConfigError::new(config.file(), None, format!("no system named `{name}`")).into(),
        );
    };
    let field = |f: &str| s.get(f).map(|l| l.value.as_str());
    let at_err = |l: Option<&Located<String>>, e: ConnectorError| {
        BuildError::Config(ConfigError::new(
            config.file(),
            Some(l.map_or(s.at, |l| l.at)),
            e.to_string(),
        ))
    };
    let need = |f: &str| {
        s.get(f).ok_or_else(|| {
            ConfigError::new(
                config.file(),
                Some(s.at),
                format!("system `{name}` needs `{f}`"),
            )
        })
    };
    let what = |f: &str| format!("system `{name}`, `{f}`");
    Ok(match s.kind {
        SystemKind::Odoo => {
            let login = need("login")?.value.clone();
            let credentials = match (s.get("api_key_env"), s.get("password_env")) {
                (Some(env), _) => {
                    Credentials::api_key(login, secret(config, env, &what("api_key_env"))?)
                }
                (None, Some(env)) => {
                    Credentials::password(login, secret(config, env, &what("password_env"))?)
                }
                (None, None) => {
                    return Err(ConfigError::new(
                        config.file(),
                        Some(s.at),
                        format!("system `{name}` needs `api_key_env` or `password_env`"),
                    )
                    .into());
                }
            };
            let protocol = match field("protocol") {
                Some("json2") => Protocol::Json2,
                Some("jsonrpc") => Protocol::JsonRpc,
                Some("xmlrpc") => Protocol::XmlRpc,
                _ => Protocol::Auto,
            };
            let mut b = Client::builder(need("url")?.value.clone())
                .credentials(credentials)
                .protocol(protocol);
            if let Some(db) = field("database") {
                b = b.database(db);
            }
            let client = b
                .build()
                .map_err(|e| at_err(s.get("url"), crate::odoo::convert(e)))?;
            System::Odoo(OdooConnector::new(client))
        }
        SystemKind::HubSpot => {
            let token = secret(config, need("token_env")?, &what("token_env"))?;
            let mut hs =
                HubSpotConnector::new(token.expose_secret()).map_err(|e| at_err(None, e))?;
            if let Some(url) = field("url") {
                hs = hs.base_url(url);
            }
            if let Some(settle) = s.get("settle") {
                hs = hs.settle(
                    parse_duration(&settle.value)
                        .map_err(|m| ConfigError::new(config.file(), Some(settle.at), m))?,
                );
            }
            if let Some(p) = field("sync_property") {
                hs = hs.sync_property(p);
            }
            System::HubSpot(hs)
        }
        SystemKind::Salesforce => {
            let id = secret(config, need("client_id_env")?, &what("client_id_env"))?;
            let key = secret(
                config,
                need("client_secret_env")?,
                &what("client_secret_env"),
            )?;
            let app = ConnectedApp::client_credentials(id.expose_secret(), key.expose_secret());
            let sf = SalesforceConnector::builder(app)
                .login_url(need("url")?.value.clone())
                .build()
                .map_err(|e| at_err(s.get("url"), e))?;
            System::Salesforce(sf)
        }
        SystemKind::BambooHr => {
            let key = secret(config, need("api_key_env")?, &what("api_key_env"))?;
            let company = need("company")?;
            let mut b = BambooHrConnector::new(company.value.clone(), key.expose_secret())
                .map_err(|e| at_err(Some(company), e))?;
            if let Some(url) = s.get("url") {
                b = b
                    .try_base_url(&url.value)
                    .map_err(|e| at_err(Some(url), e))?;
            }
            if let Some(settle) = s.get("settle") {
                b = b.settle(
                    parse_duration(&settle.value)
                        .map_err(|m| ConfigError::new(config.file(), Some(settle.at), m))?,
                );
            }
            System::BambooHr(b)
        }
        SystemKind::Gusto => {
            let id = secret(config, need("client_id_env")?, &what("client_id_env"))?;
            let key = secret(
                config,
                need("client_secret_env")?,
                &what("client_secret_env"),
            )?;
            let file = need("token_file")?;
            let path = config.dir().join(&file.value);
            let first = match s.get("refresh_token_env") {
                Some(env) if !path.exists() => {
                    Some(secret(config, env, &what("refresh_token_env"))?)
                }
                _ => None,
            };
            if first.is_none() && !path.exists() {
                return Err(ConfigError::new(
                    config.file(),
                    Some(file.at),
                    format!(
                        "`{}` does not exist: give `refresh_token_env` for the first run",
                        path.display()
                    ),
                )
                .into());
            }
            let store = Arc::new(FileTokenStore { path, first });
            let app = AppCredentials::new(id.expose_secret(), key.expose_secret());
            let mut b = GustoConnector::builder(need("company")?.value.clone(), app, store);
            if let Some(url) = field("url") {
                b = b.base_url(url);
            }
            System::Gusto(b.build().map_err(|e| at_err(None, e))?)
        }
    })
}

/// Gusto's rotating token pair in a file (JSON, written atomically,
/// readable by its owner only). While the file does not exist, the first
/// refresh token from the environment, as an expired pair.
struct FileTokenStore {
    path: PathBuf,
    first: Option<SecretString>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TokenFile {
    access_token: String,
    refresh_token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

#[async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self) -> Result<Option<Tokens>> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => {
                let t: TokenFile = serde_json::from_slice(&bytes).map_err(|e| {
                    ConnectorError::store(format!(
                        "the token file `{}` does not parse: {}",
                        self.path.display(),
                        e.classify_name()
                    ))
                })?;
                Ok(Some(Tokens::new(
                    t.access_token,
                    t.refresh_token,
                    t.expires_at,
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(self
                .first
                .as_ref()
                .map(|r| Tokens::new("", r.expose_secret(), chrono::DateTime::UNIX_EPOCH))),
            Err(e) => Err(ConnectorError::store(format!(
                "reading the token file `{}`: {e}",
                self.path.display()
            ))),
        }
    }

    async fn save(&self, tokens: &Tokens) -> Result<()> {
        let body = serde_json::to_vec(&TokenFile {
            access_token: tokens.expose_access_token().to_owned(),
            refresh_token: tokens.expose_refresh_token().to_owned(),
            expires_at: tokens.expires_at(),
        })
        .map_err(|e| ConnectorError::store(format!("encoding the tokens: {e}")))?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_private(&path, &body))
            .await
            .map_err(|e| ConnectorError::store(format!("saving the tokens: {e}")))?
            .map_err(|e| {
                ConnectorError::store(format!(
                    "saving the tokens to `{}`: {e}",
                    self.path.display()
                ))
            })
    }
}

/// Writes `body` to a temporary file readable by its owner only, syncs
/// it, and renames it over `path`.
fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp)?;
    f.write_all(body)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

trait ErrorName {
    fn classify_name(&self) -> &'static str;
}

impl ErrorName for serde_json::Error {
    /// What kind of mistake, without quoting the file (it holds secrets).
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "not a token pair",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

/// A pipeline of any entity, as the commands drive it; a runner's job too.
#[async_trait]
pub(crate) trait AnyPipeline: crate::runner::Job + Send + Sync {
    async fn run(&self) -> Result<RunSummary>;
    async fn replay(&self) -> Result<RunSummary>;
    async fn replay_keys(&self, keys: &[String]) -> Result<RunSummary>;
}

#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> AnyPipeline for Pipeline<E> {
    async fn run(&self) -> Result<RunSummary> {
        Pipeline::run(self).await
    }
    async fn replay(&self) -> Result<RunSummary> {
        Pipeline::replay(self).await
    }
    async fn replay_keys(&self, keys: &[String]) -> Result<RunSummary> {
        Pipeline::replay_keys(self, keys).await
    }
}

/// An entity the CLI can sync: which systems read and write it.
trait CliEntity: Entity + Default + Send + Sync + 'static {
    fn source(system: &System) -> Option<Arc<dyn Source<Self>>>;
    fn sink(system: &System) -> Option<Arc<dyn Sink<Self>>>;
}

/// Odoo, HubSpot and Salesforce read and write every built-in entity
/// (Salesforce those with an object map); BambooHR and Gusto the ones
/// listed.
macro_rules! cli_entity {
    ($t:ty; sources: [$($src:ident),*]; sinks: [$($snk:ident),*]) => {
        impl CliEntity for $t {
            #[allow(unreachable_patterns)]
            fn source(system: &System) -> Option<Arc<dyn Source<Self>>> {
                match system {
                    System::Odoo(c) => Some(Arc::new(c.clone())),
                    System::HubSpot(c) => Some(Arc::new(c.clone())),
                    System::Salesforce(c) => Some(Arc::new(c.clone())),
                    $(System::$src(c) => Some(Arc::new(c.clone())),)*
                    _ => None,
                }
            }
            #[allow(unreachable_patterns)]
            fn sink(system: &System) -> Option<Arc<dyn Sink<Self>>> {
                match system {
                    System::Odoo(c) => Some(Arc::new(c.clone())),
                    System::HubSpot(c) => Some(Arc::new(c.clone())),
                    System::Salesforce(c) => Some(Arc::new(c.clone())),
                    $(System::$snk(c) => Some(Arc::new(c.clone())),)*
                    _ => None,
                }
            }
        }
    };
}

cli_entity!(ClientCompany; sources: []; sinks: []);
cli_entity!(Contact; sources: []; sinks: []);
cli_entity!(Opportunity; sources: []; sinks: []);
cli_entity!(Engagement; sources: []; sinks: []);
cli_entity!(Contract; sources: []; sinks: []);
cli_entity!(Milestone; sources: []; sinks: []);
cli_entity!(Employee; sources: [BambooHr, Gusto]; sinks: []);
cli_entity!(Assignment; sources: []; sinks: []);
cli_entity!(TimesheetEntry; sources: []; sinks: []);
cli_entity!(Expense; sources: []; sinks: []);
cli_entity!(InvoiceLine; sources: []; sinks: []);
cli_entity!(Invoice; sources: []; sinks: []);
cli_entity!(Payment; sources: []; sinks: []);
cli_entity!(PayrollRun; sources: [Gusto]; sinks: []);
cli_entity!(PayStatement; sources: [Gusto]; sinks: [Gusto]);
cli_entity!(TimeOff; sources: [BambooHr, Gusto]; sinks: []);

/// Something to do with one entity type, chosen by its name at run time.
trait WithEntity {
    type Out;
    fn call<E: CliEntity>(self) -> Self::Out;
}

/// Calls `f` with the entity named `entity`; `None` for an unknown name.
fn with_entity<F: WithEntity>(entity: &str, f: F) -> Option<F::Out> {
    macro_rules! dispatch {
        ($($t:ty),*) => {
            $(if entity == <$t as Entity>::NAME { return Some(f.call::<$t>()); })*
        };
    }
    dispatch!(
        ClientCompany,
        Contact,
        Opportunity,
        Engagement,
        Contract,
        Milestone,
        Employee,
        Assignment,
        TimesheetEntry,
        Expense,
        InvoiceLine,
        Invoice,
        Payment,
        PayrollRun,
        PayStatement,
        TimeOff
    );
    None
}

/// The connectors built so far, by system name (each built once, so the
/// pipelines that share a system share its rate limiter and its token).
#[derive(Debug, Default)]
pub(crate) struct Systems {
    built: BTreeMap<String, System>,
}

impl Systems {
    pub(crate) fn get(
        &mut self,
        config: &Config,
        name: &str,
    ) -> std::result::Result<System, BuildError> {
        if let Some(s) = self.built.get(name) {
            return Ok(s.clone());
        }
        let s = build_system(config, name)?;
        self.built.insert(name.to_owned(), s.clone());
        Ok(s)
    }
}

struct BuildPipeline<'a> {
    config: &'a Config,
    p: &'a PipelineConfig,
    source: System,
    sink: System,
    state: Arc<dyn SyncState>,
    dry_run: bool,
}

impl WithEntity for BuildPipeline<'_> {
    type Out = std::result::Result<Arc<dyn AnyPipeline>, BuildError>;
    fn call<E: CliEntity>(self) -> Self::Out {
        let here = |m: String| {
            BuildError::Config(ConfigError::new(
                self.config.file(),
                Some((self.p.line, 1)),
                format!("pipeline `{}`: {m}", self.p.name),
            ))
        };
        let source = E::source(&self.source).ok_or_else(|| {
            here(format!(
                "`{}` ({}) does not read {}",
                self.p.from,
                kind_of(&self.source),
                E::NAME
            ))
        })?;
        let sink = E::sink(&self.sink).ok_or_else(|| {
            here(format!(
                "`{}` ({}) does not write {}",
                self.p.to,
                kind_of(&self.sink),
                E::NAME
            ))
        })?;
        let mut b = Pipeline::<E>::builder(self.p.name.clone(), source, sink, self.state)
            .batch_size(self.p.batch_size)
            .dry_run(self.dry_run);
        if let Some(path) = &self.p.policy
            && let Some(policy) = self.config.policies.get(path)
        {
            b = b.policy(policy.clone());
        }
        match b.build() {
            Ok(p) => Ok(Arc::new(p)),
            Err(e) if e.kind() == ConnectorErrorKind::Configuration => Err(here(e.to_string())),
            Err(e) => Err(BuildError::Failed(e)),
        }
    }
}

fn kind_of(s: &System) -> &'static str {
    match s {
        System::Odoo(_) => "odoo",
        System::HubSpot(_) => "hubspot",
        System::Salesforce(_) => "salesforce",
        System::BambooHr(_) => "bamboohr",
        System::Gusto(_) => "gusto",
    }
}

impl Systems {
    /// Builds every system the pipelines read or write, so a missing
    /// secret is found before anything opens.
    pub(crate) fn for_pipelines(
        config: &Config,
        pipelines: &[&PipelineConfig],
    ) -> std::result::Result<Systems, BuildError> {
        let mut systems = Systems::default();
        for p in pipelines {
            systems.get(config, &p.from)?;
            systems.get(config, &p.to)?;
        }
        Ok(systems)
    }
}

/// Builds the pipeline `p` over `state`.
pub(crate) fn build_pipeline(
    config: &Config,
    systems: &mut Systems,
    p: &PipelineConfig,
    state: Arc<dyn SyncState>,
    dry_run: bool,
) -> std::result::Result<Arc<dyn AnyPipeline>, BuildError> {
    let source = systems.get(config, &p.from)?;
    let sink = systems.get(config, &p.to)?;
    with_entity(
        &p.entity,
        BuildPipeline {
            config,
            p,
            source,
            sink,
            state,
            dry_run,
        },
    )
    .unwrap_or_else(|| {
        Err(ConfigError::new(
            config.file(),
            Some((p.line, 1)),
            format!("unknown entity `{}`", p.entity),
        )
        .into())
    })
}

struct Reconcile<'a> {
    a: &'a System,
    b: &'a System,
    key: &'a MatchKey,
    fields: &'a [&'a str],
}

impl<'a> WithEntity for Reconcile<'a> {
    type Out = std::result::Result<futures::future::BoxFuture<'a, Result<Reconciliation>>, String>;
    fn call<E: CliEntity>(self) -> Self::Out {
        let a = E::source(self.a)
            .ok_or_else(|| format!("a {} system does not read {}", kind_of(self.a), E::NAME))?;
        let b = E::source(self.b)
            .ok_or_else(|| format!("a {} system does not read {}", kind_of(self.b), E::NAME))?;
        let (key, fields) = (self.key, self.fields);
        Ok(Box::pin(async move {
            crate::workflows::compare::reconcile_sources::<E>(a.as_ref(), b.as_ref(), key, fields)
                .await
        }))
    }
}

/// Reads `entity` from both systems and reconciles them by `key`.
pub(crate) async fn reconcile(
    a: &System,
    b: &System,
    entity: &str,
    key: &MatchKey,
    fields: &[&str],
) -> std::result::Result<Result<Reconciliation>, String> {
    let fut = with_entity(entity, Reconcile { a, b, key, fields })
        .ok_or_else(|| format!("unknown entity `{entity}`"))??;
    Ok(fut.await)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A config whose secrets come from `PATH`: a variable every test
    /// process has, whose value then must not show (a client id is not a
    /// secret: Salesforce's shows).
    fn config_with_path_secrets() -> Config {
        Config::from_toml(
            r#"
[state]
url = "memory:"
[systems.crm]
kind = "hubspot"
token_env = "PATH"
[systems.erp]
kind = "odoo"
url = "http://127.0.0.1:9"
login = "admin"
password_env = "PATH"
[systems.sf]
kind = "salesforce"
url = "https://acme.my.salesforce.com"
client_id_env = "HOME"
client_secret_env = "PATH"
[systems.hr]
kind = "bamboohr"
company = "acme"
api_key_env = "PATH"
"#,
            "sync.toml",
        )
        .unwrap()
    }

    #[test]
    fn secrets_are_in_no_debug() {
        let secret = std::env::var("PATH").unwrap();
        assert!(secret.len() > 3);
        let config = config_with_path_secrets();
        assert!(!format!("{config:?}").contains(&secret));
        let mut systems = Systems::default();
        for name in ["crm", "erp", "sf", "hr"] {
            let system = systems.get(&config, name).unwrap();
            let shown = format!("{system:?}");
            assert!(!shown.contains(&secret), "{name}: {shown}");
        }
        assert!(!format!("{systems:?}").contains(&secret));
    }

    #[test]
    fn a_missing_variable_names_its_line() {
        let config = Config::from_toml(
            "[state]\nurl = \"memory:\"\n[systems.crm]\nkind = \"hubspot\"\ntoken_env = \"ODOO_SYNC_TEST_NOT_SET_ANYWHERE\"\n",
            "sync.toml",
        )
        .unwrap();
        let Err(BuildError::Config(e)) = build_system(&config, "crm") else {
            panic!("built without its token")
        };
        assert_eq!(
            e.to_string(),
            "sync.toml:5:13: system `crm`, `token_env`: the environment variable `ODOO_SYNC_TEST_NOT_SET_ANYWHERE` is not set"
        );
    }

    #[tokio::test]
    async fn gusto_tokens_round_trip_through_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gusto.json");
        let store = FileTokenStore {
            path: path.clone(),
            first: Some(SecretString::from("first-refresh")),
        };
        // No file yet: the first refresh token, as an expired pair.
        let first = store.load().await.unwrap().unwrap();
        assert_eq!(first.expose_refresh_token(), "first-refresh");
        assert!(first.is_expired(chrono::Utc::now()));
        let at = chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        store
            .save(&Tokens::new("access-2", "refresh-2", at))
            .await
            .unwrap();
        let again = FileTokenStore {
            path: path.clone(),
            first: None,
        };
        assert_eq!(
            again.load().await.unwrap(),
            Some(Tokens::new("access-2", "refresh-2", at))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // A damaged file is an error that does not quote it.
        std::fs::write(&path, b"{\"access_token\": \"leaked-secret\"").unwrap();
        let err = again.load().await.unwrap_err();
        assert_eq!(err.kind(), ConnectorErrorKind::Store);
        assert!(!err.to_string().contains("leaked-secret"), "{err}");
    }
}
