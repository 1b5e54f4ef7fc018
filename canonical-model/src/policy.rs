//! Ownership policy: which system owns each field, and how conflicts resolve.

use crate::identity::SystemId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How a change from a system that does not own a field is treated.
///
/// # Example
/// ```
/// use odoo_integration_model::Strategy;
/// assert_eq!("hold-for-review".parse::<Strategy>()?, Strategy::HoldForReview);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Only the owner's changes apply; others are refused.
    #[default]
    OwnerWins,
    /// The most recent change (by the source's change time) applies.
    LatestWins,
    /// A non-owner's change is held for a person to review.
    HoldForReview,
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner-wins" => Ok(Strategy::OwnerWins),
            "latest-wins" => Ok(Strategy::LatestWins),
            "hold-for-review" => Ok(Strategy::HoldForReview),
            other => Err(other.to_owned()),
        }
    }
}

/// Whether a system that does not own a field may give it its first value
/// when a record is new to the sync (seeding).
///
/// The default, [`Seed::Any`], lets whichever system first brings a record
/// fill every field it has, owned or not: a CRM's new contact arrives in
/// Odoo with its email even when Odoo owns `email`, since there is no
/// owner's value to protect yet. [`Seed::OwnerOnly`] leaves such a field
/// empty until its owner writes it; the pipeline reports the value it left
/// out as refused.
///
/// # Example
/// ```
/// use odoo_integration_model::Seed;
/// assert_eq!("owner-only".parse::<Seed>()?, Seed::OwnerOnly);
/// assert_eq!(Seed::default(), Seed::Any);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Seed {
    /// Any system seeds the field of a record new to the sync.
    #[default]
    Any,
    /// Only the field's owner gives it a value, also on a new record.
    OwnerOnly,
}

impl std::str::FromStr for Seed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "any" => Ok(Seed::Any),
            "owner-only" => Ok(Seed::OwnerOnly),
            other => Err(other.to_owned()),
        }
    }
}

/// The rule for one field: its owner (if any), its strategy, and who may
/// seed it.
///
/// # Example
/// ```
/// use odoo_integration_model::{FieldRule, Seed, Strategy, SystemId};
/// let r = FieldRule { owner: Some(SystemId::odoo()), strategy: Strategy::OwnerWins, seed: Seed::OwnerOnly };
/// assert!(r.seeds_from(&SystemId::odoo()));
/// assert!(!r.seeds_from(&SystemId::hubspot()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRule {
    /// The system of record; `None`: nobody owns the field.
    pub owner: Option<SystemId>,
    /// The conflict strategy.
    pub strategy: Strategy,
    /// Who may give the field its first value on a new record.
    pub seed: Seed,
}

impl FieldRule {
    /// Whether `source` may give this field its value on a record new to the
    /// sync: always under [`Seed::Any`], only the owner (or anyone, for an
    /// unowned field) under [`Seed::OwnerOnly`].
    ///
    /// # Example
    /// ```
    /// use odoo_integration_model::{Policy, SystemId};
    /// let p = Policy::from_toml("[client]\ndefault_owner = \"odoo\"\nseed = \"owner-only\"\n")?;
    /// assert!(!p.rule("client", "website").seeds_from(&SystemId::hubspot()));
    /// assert!(p.rule("client", "website").seeds_from(&SystemId::odoo()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seeds_from(&self, source: &SystemId) -> bool {
        match self.seed {
            Seed::Any => true,
            Seed::OwnerOnly => self.owner.as_ref().is_none_or(|o| o == source),
        }
    }
}

/// One field's settings as written; `None` falls back to the group, then
/// the entity.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct FieldSettings {
    owner: Option<SystemId>,
    strategy: Option<Strategy>,
    seed: Option<Seed>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct EntityPolicy {
    default_owner: Option<SystemId>,
    strategy: Strategy,
    seed: Seed,
    fields: BTreeMap<String, FieldSettings>,
}

/// A validated ownership policy. Load with [`Policy::from_toml`] or
/// [`Policy::from_json`]; the format is:
///
/// ```toml
/// [client]
/// default_owner = "odoo"          # optional
/// strategy = "owner-wins"         # optional; owner-wins | latest-wins | hold-for-review
/// seed = "any"                    # optional; any | owner-only
/// [client.fields]
/// industry = "salesforce"                         # owner only
/// "address.*" = "odoo"                            # a field group
/// website = { owner = "hubspot", strategy = "latest-wins" }
/// website = { owner = "odoo", seed = "owner-only" }
/// ```
///
/// A field's rule is the most specific one: the field itself, then its
/// group (`address.*`), then the entity's `default_owner`; the strategy and
/// the seed setting fall back the same way, to the entity's.
///
/// ## Changes, and new records
///
/// Once a record is known to the sync, a change from a system that does not
/// own a field is refused, applied when newer, or held, as the field's
/// [`Strategy`] says. A record *new* to the sync is different: there is no
/// owner's value to protect yet, so by default ([`Seed::Any`]) the system
/// that brings it first seeds every field it has, including fields another
/// system owns (the CRM's email lands in Odoo even though Odoo owns
/// `email`). Set `seed = "owner-only"` on a field, a group or the entity to
/// leave such fields empty until their owner writes them.
///
/// # Example
/// ```
/// use odoo_integration_model::{Policy, Seed, Strategy, SystemId};
/// let p = Policy::from_toml(r#"
/// [client]
/// default_owner = "odoo"
/// [client.fields]
/// industry = "salesforce"
/// "address.*" = { owner = "hubspot", strategy = "latest-wins" }
/// website = { seed = "owner-only" }
/// "#)?;
/// assert_eq!(p.rule("client", "industry").owner, Some(SystemId::salesforce()));
/// assert_eq!(p.rule("client", "address.city").strategy, Strategy::LatestWins);
/// assert_eq!(p.rule("client", "tax_id").owner, Some(SystemId::odoo()));
/// assert_eq!(p.rule("client", "website").seed, Seed::OwnerOnly);
/// assert_eq!(p.rule("client", "tax_id").seed, Seed::Any);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Policy {
    entities: BTreeMap<String, EntityPolicy>,
}

/// Where in a policy file an error is.
///
/// # Example
/// ```
/// use odoo_integration_model::Location;
/// assert_eq!(Location::Toml { line: 3, column: 1 }.to_string(), "line 3, column 1");
/// assert_eq!(Location::Json { path: "$.client".into() }.to_string(), "$.client");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Location {
    /// A 1-based line and column in a TOML file.
    Toml {
        /// Line.
        line: usize,
        /// Column.
        column: usize,
    },
    /// A JSON path such as `$.client.fields.industry`.
    Json {
        /// The path.
        path: String,
    },
    /// Not known.
    Unknown,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Toml { line, column } => write!(f, "line {line}, column {column}"),
            Location::Json { path } => f.write_str(path),
            Location::Unknown => f.write_str("unknown location"),
        }
    }
}

/// One mistake in a policy file, with where it is.
///
/// # Example
/// ```
/// use odoo_integration_model::{Policy, PolicyMistake};
/// let err = Policy::from_toml("[spaceship]\ndefault_owner = \"odoo\"\n").unwrap_err();
/// assert!(matches!(err.mistakes(), [PolicyMistake::UnknownEntity { .. }]));
/// assert_eq!(err.mistakes()[0].to_string(), "line 1, column 2: unknown entity `spaceship`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyMistake {
    /// Not valid TOML/JSON or the wrong shape.
    #[error("{at}: {message}")]
    Syntax {
        /// Where.
        at: Location,
        /// The parser's message.
        message: String,
    },
    /// An entity the model does not have.
    #[error("{at}: unknown entity `{entity}`")]
    UnknownEntity {
        /// Where.
        at: Location,
        /// The name given.
        entity: String,
    },
    /// A field the entity does not have (or a group matching none).
    #[error("{at}: unknown field `{field}` of {entity}")]
    UnknownField {
        /// Where.
        at: Location,
        /// Entity.
        entity: String,
        /// The field given.
        field: String,
    },
    /// A strategy name that is not one of the three.
    #[error(
        "{at}: unknown strategy `{strategy}`, expected owner-wins, latest-wins or hold-for-review"
    )]
    UnknownStrategy {
        /// Where.
        at: Location,
        /// The name given.
        strategy: String,
    },
    /// A seed setting that is not `any` or `owner-only`.
    #[error("{at}: unknown seed setting `{seed}`, expected any or owner-only")]
    UnknownSeed {
        /// Where.
        at: Location,
        /// The name given.
        seed: String,
    },
    /// An empty system name.
    #[error("{at}: empty system name")]
    EmptySystem {
        /// Where.
        at: Location,
    },
    /// The same entity or field given twice (JSON; TOML refuses it as a
    /// syntax error).
    #[error("{at}: `{key}` is given twice")]
    Duplicate {
        /// Where the second one is.
        at: Location,
        /// The key.
        key: String,
    },
}

impl PolicyMistake {
    /// Where the mistake is.
    ///
    /// # Example
    /// ```
    /// use odoo_integration_model::{Location, Policy};
    /// let err = Policy::from_toml("[clients]\n").unwrap_err();
    /// assert_eq!(err.mistakes()[0].at(), &Location::Toml { line: 1, column: 2 });
    /// ```
    pub fn at(&self) -> &Location {
        match self {
            PolicyMistake::Syntax { at, .. }
            | PolicyMistake::UnknownEntity { at, .. }
            | PolicyMistake::UnknownField { at, .. }
            | PolicyMistake::UnknownStrategy { at, .. }
            | PolicyMistake::UnknownSeed { at, .. }
            | PolicyMistake::EmptySystem { at }
            | PolicyMistake::Duplicate { at, .. } => at,
        }
    }
}

/// A policy file that could not be loaded: every mistake found, in file
/// order (at least one). A syntax error stops the reading, so it comes
/// alone.
///
/// `Display` prints them one per line.
///
/// # Example
/// ```
/// use odoo_integration_model::{Policy, PolicyMistake};
/// let err = Policy::from_toml(r#"
/// [client]
/// strategy = "owner-loses"
/// [client.fields]
/// industri = "salesforce"
/// [spaceship]
/// "#).unwrap_err();
/// assert_eq!(err.mistakes().len(), 3);
/// assert_eq!(err.to_string(), "\
/// line 3, column 12: unknown strategy `owner-loses`, expected owner-wins, latest-wins or hold-for-review
/// line 5, column 1: unknown field `industri` of client
/// line 6, column 2: unknown entity `spaceship`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    mistakes: Vec<PolicyMistake>,
}

impl PolicyError {
    /// Every mistake, in file order.
    ///
    /// # Example
    /// ```
    /// let err = odoo_integration_model::Policy::from_json(r#"{"client": {"seed": "all"}}"#).unwrap_err();
    /// assert_eq!(err.mistakes().len(), 1);
    /// ```
    pub fn mistakes(&self) -> &[PolicyMistake] {
        &self.mistakes
    }

    /// The mistakes, owned.
    ///
    /// # Example
    /// ```
    /// let err = odoo_integration_model::Policy::from_toml("[clients]\n").unwrap_err();
    /// assert_eq!(err.into_mistakes().len(), 1);
    /// ```
    pub fn into_mistakes(self) -> Vec<PolicyMistake> {
        self.mistakes
    }
}

impl From<PolicyMistake> for PolicyError {
    fn from(mistake: PolicyMistake) -> Self {
        PolicyError {
            mistakes: vec![mistake],
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.mistakes.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

// ----- raw file shapes, generic over how a located string is read -----

/// A map read in the order it is written (a JSON object's keys come in file
/// order; TOML mistakes are sorted by their span afterwards).
struct Ordered<K, V>(Vec<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Ordered<K, V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> serde::de::Visitor<'de> for Vis<K, V> {
            type Value = Ordered<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Vis(std::marker::PhantomData))
    }
}

/// A field's rule as written: `"system"` or a table of `owner`, `strategy`
/// and `seed`, in the order written.
enum RawField<S> {
    Owner(String),
    Full(Vec<(FieldKey, S)>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldKey {
    Owner,
    Strategy,
    Seed,
}

impl FieldKey {
    fn name(self) -> &'static str {
        match self {
            FieldKey::Owner => "owner",
            FieldKey::Strategy => "strategy",
            FieldKey::Seed => "seed",
        }
    }
}

impl<'de, S: Deserialize<'de>> Deserialize<'de> for RawField<S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<S>(std::marker::PhantomData<S>);
        impl<'de, S: Deserialize<'de>> serde::de::Visitor<'de> for V<S> {
            type Value = RawField<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a system name or a table with `owner`, `strategy` and/or `seed`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawField::Owner(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let key = match key.as_str() {
                        "owner" => FieldKey::Owner,
                        "strategy" => FieldKey::Strategy,
                        "seed" => FieldKey::Seed,
                        other => {
                            return Err(serde::de::Error::unknown_field(
                                other,
                                &["owner", "strategy", "seed"],
                            ));
                        }
                    };
                    if out.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::duplicate_field(key.name()));
                    }
                    out.push((key, map.next_value::<S>()?));
                }
                Ok(RawField::Full(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// An entity's table, its keys in the order written.
enum EntityEntry<S> {
    DefaultOwner(S),
    Strategy(S),
    Seed(S),
    Fields(Ordered<S, RawField<S>>),
}

struct RawEntity<S>(Vec<EntityEntry<S>>);

impl<'de, S: Deserialize<'de>> Deserialize<'de> for RawEntity<S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const KEYS: &[&str] = &["default_owner", "strategy", "seed", "fields"];
        struct V<S>(std::marker::PhantomData<S>);
        impl<'de, S: Deserialize<'de>> serde::de::Visitor<'de> for V<S> {
            type Value = RawEntity<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table with `default_owner`, `strategy`, `seed` and/or `fields`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                let mut seen = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let Some(known) = KEYS.iter().find(|k| **k == key) else {
                        return Err(serde::de::Error::unknown_field(&key, KEYS));
                    };
                    if seen.contains(known) {
                        return Err(serde::de::Error::duplicate_field(known));
                    }
                    seen.push(*known);
                    out.push(match *known {
                        "default_owner" => EntityEntry::DefaultOwner(map.next_value()?),
                        "strategy" => EntityEntry::Strategy(map.next_value()?),
                        "seed" => EntityEntry::Seed(map.next_value()?),
                        _ => EntityEntry::Fields(map.next_value()?),
                    });
                }
                Ok(RawEntity(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A string read from a file with a way to say where it was.
trait Located {
    fn text(&self) -> &str;
    fn at(&self, src: &str, path: &str) -> Location;
}

impl Located for toml::Spanned<String> {
    fn text(&self) -> &str {
        self.get_ref()
    }
    fn at(&self, src: &str, _path: &str) -> Location {
        line_col(src, self.span().start)
    }
}

impl Located for String {
    fn text(&self) -> &str {
        self
    }
    fn at(&self, _src: &str, path: &str) -> Location {
        Location::Json {
            path: path.to_owned(),
        }
    }
}

fn line_col(src: &str, offset: usize) -> Location {
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location::Toml { line, column }
}

fn json_key(path: &str, key: &str) -> String {
    if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{path}.{key}")
    } else {
        format!("{path}[{key:?}]")
    }
}

/// Reads a policy's raw shape into a [`Policy`], collecting every mistake.
struct Builder<'a> {
    src: &'a str,
    mistakes: Vec<PolicyMistake>,
}

impl Builder<'_> {
    fn system<S: Located>(&mut self, s: &S, path: &str) -> Option<SystemId> {
        if s.text().trim().is_empty() {
            self.mistakes.push(PolicyMistake::EmptySystem {
                at: s.at(self.src, path),
            });
            return None;
        }
        Some(SystemId::new(s.text()))
    }

    fn strategy<S: Located>(&mut self, s: &S, path: &str) -> Option<Strategy> {
        s.text()
            .parse()
            .map_err(|strategy| {
                self.mistakes.push(PolicyMistake::UnknownStrategy {
                    at: s.at(self.src, path),
                    strategy,
                })
            })
            .ok()
    }

    fn seed<S: Located>(&mut self, s: &S, path: &str) -> Option<Seed> {
        s.text()
            .parse()
            .map_err(|seed| {
                self.mistakes.push(PolicyMistake::UnknownSeed {
                    at: s.at(self.src, path),
                    seed,
                })
            })
            .ok()
    }

    fn entity<S: Located>(&mut self, name: &S, raw: RawEntity<S>) -> Option<EntityPolicy> {
        let epath = json_key("$", name.text());
        let Some(known_fields) = crate::schema(name.text()) else {
            self.mistakes.push(PolicyMistake::UnknownEntity {
                at: name.at(self.src, &epath),
                entity: name.text().to_owned(),
            });
            return None;
        };
        let mut ep = EntityPolicy::default();
        for entry in raw.0 {
            match entry {
                EntityEntry::DefaultOwner(o) => {
                    ep.default_owner = self.system(&o, &format!("{epath}.default_owner"));
                }
                EntityEntry::Strategy(s) => {
                    if let Some(s) = self.strategy(&s, &format!("{epath}.strategy")) {
                        ep.strategy = s;
                    }
                }
                EntityEntry::Seed(s) => {
                    if let Some(s) = self.seed(&s, &format!("{epath}.seed")) {
                        ep.seed = s;
                    }
                }
                EntityEntry::Fields(fields) => {
                    for (field, rule) in fields.0 {
                        let fpath = json_key(&format!("{epath}.fields"), field.text());
                        let known = match field.text().strip_suffix(".*") {
                            Some(group) => known_fields
                                .iter()
                                .any(|f| f.strip_prefix(group).is_some_and(|r| r.starts_with('.'))),
                            None => known_fields.contains(&field.text()),
                        };
                        if !known {
                            self.mistakes.push(PolicyMistake::UnknownField {
                                at: field.at(self.src, &fpath),
                                entity: name.text().to_owned(),
                                field: field.text().to_owned(),
                            });
                        }
                        if ep.fields.contains_key(field.text()) {
                            self.mistakes.push(PolicyMistake::Duplicate {
                                at: field.at(self.src, &fpath),
                                key: field.text().to_owned(),
                            });
                        }
                        let settings = self.field(&field, rule, &fpath);
                        if known {
                            ep.fields.insert(field.text().to_owned(), settings);
                        }
                    }
                }
            }
        }
        Some(ep)
    }

    fn field<S: Located>(&mut self, field: &S, rule: RawField<S>, fpath: &str) -> FieldSettings {
        let mut settings = FieldSettings::default();
        match rule {
            RawField::Owner(o) if o.trim().is_empty() => {
                self.mistakes.push(PolicyMistake::EmptySystem {
                    at: field.at(self.src, fpath),
                });
            }
            RawField::Owner(o) => settings.owner = Some(SystemId::new(&o)),
            RawField::Full(entries) => {
                for (key, value) in entries {
                    let path = format!("{fpath}.{}", key.name());
                    match key {
                        FieldKey::Owner => settings.owner = self.system(&value, &path),
                        FieldKey::Strategy => settings.strategy = self.strategy(&value, &path),
                        FieldKey::Seed => settings.seed = self.seed(&value, &path),
                    }
                }
            }
        }
        settings
    }

    fn build<S: Located>(mut self, raw: Ordered<S, RawEntity<S>>) -> Result<Policy, PolicyError> {
        let mut entities = BTreeMap::new();
        for (name, raw) in raw.0 {
            if entities.contains_key(name.text()) {
                let path = json_key("$", name.text());
                self.mistakes.push(PolicyMistake::Duplicate {
                    at: name.at(self.src, &path),
                    key: name.text().to_owned(),
                });
            }
            if let Some(ep) = self.entity(&name, raw) {
                entities.insert(name.text().to_owned(), ep);
            }
        }
        if self.mistakes.is_empty() {
            return Ok(Policy { entities });
        }
        // JSON mistakes are already in file order; TOML ones by their span.
        self.mistakes.sort_by_key(|m| match m.at() {
            Location::Toml { line, column } => (*line, *column),
            _ => (0, 0),
        });
        Err(PolicyError {
            mistakes: self.mistakes,
        })
    }
}

impl Policy {
    /// Loads and validates a TOML policy.
    ///
    /// # Errors
    /// [`PolicyError`] with every mistake, each with its line and column.
    ///
    /// # Example
    /// ```
    /// let err = odoo_integration_model::Policy::from_toml("[client.fields]\nindustri = \"salesforce\"\n").unwrap_err();
    /// assert_eq!(err.to_string(), "line 2, column 1: unknown field `industri` of client");
    /// ```
    pub fn from_toml(src: &str) -> Result<Policy, PolicyError> {
        let raw: Ordered<toml::Spanned<String>, RawEntity<toml::Spanned<String>>> =
            toml::from_str(src).map_err(|e| PolicyMistake::Syntax {
                at: e
                    .span()
                    .map_or(Location::Unknown, |s| line_col(src, s.start)),
                message: e.message().to_owned(),
            })?;
        Builder {
            src,
            mistakes: Vec::new(),
        }
        .build(raw)
    }

    /// Loads and validates a JSON policy (same shape as TOML).
    ///
    /// # Errors
    /// [`PolicyError`] with every mistake, each with its JSON path (or line
    /// and column for a syntax error).
    ///
    /// # Example
    /// ```
    /// let err = odoo_integration_model::Policy::from_json(r#"{"client": {"strategy": "owner-loses"}}"#).unwrap_err();
    /// assert!(err.to_string().starts_with("$.client.strategy: unknown strategy"));
    /// ```
    pub fn from_json(src: &str) -> Result<Policy, PolicyError> {
        let raw: Ordered<String, RawEntity<String>> =
            serde_json::from_str(src).map_err(|e| PolicyMistake::Syntax {
                at: Location::Toml {
                    line: e.line(),
                    column: e.column(),
                },
                message: e.to_string(),
            })?;
        Builder {
            src,
            mistakes: Vec::new(),
        }
        .build(raw)
    }

    /// The rule for `entity.field`: the field's own, else its group's, else
    /// the entity default. Entities not in the policy have no owner and
    /// [`Strategy::OwnerWins`] (anyone may write unowned fields).
    ///
    /// # Example
    /// ```
    /// let p = odoo_integration_model::Policy::default();
    /// assert_eq!(p.rule("client", "industry").owner, None);
    /// ```
    pub fn rule(&self, entity: &str, field: &str) -> FieldRule {
        let Some(e) = self.entities.get(entity) else {
            return FieldRule {
                owner: None,
                strategy: Strategy::OwnerWins,
                seed: Seed::Any,
            };
        };
        let mut settings = e.fields.get(field).cloned().unwrap_or_default();
        // Each setting not given on the field comes from the longest
        // matching group ("a.b.*" before "a.*"), then the entity.
        let mut prefix = field;
        let mut group = String::with_capacity(field.len() + 2);
        while let Some((head, _)) = prefix.rsplit_once('.') {
            if settings.owner.is_some() && settings.strategy.is_some() && settings.seed.is_some() {
                break;
            }
            group.clear();
            group.push_str(head);
            group.push_str(".*");
            if let Some(g) = e.fields.get(&group) {
                settings.owner = settings.owner.or_else(|| g.owner.clone());
                settings.strategy = settings.strategy.or(g.strategy);
                settings.seed = settings.seed.or(g.seed);
            }
            prefix = head;
        }
        FieldRule {
            owner: settings.owner.or_else(|| e.default_owner.clone()),
            strategy: settings.strategy.unwrap_or(e.strategy),
            seed: settings.seed.unwrap_or(e.seed),
        }
    }

    /// Whether any field of `entity` is seeded by its owner only: a quick
    /// test that spares asking [`Policy::rule`] for every field of every
    /// new record.
    ///
    /// # Example
    /// ```
    /// use odoo_integration_model::Policy;
    /// let p = Policy::from_toml("[client.fields]\nwebsite = { owner = \"odoo\", seed = \"owner-only\" }\n")?;
    /// assert!(p.restricts_seeding("client"));
    /// assert!(!p.restricts_seeding("contact"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restricts_seeding(&self, entity: &str) -> bool {
        self.entities.get(entity).is_some_and(|e| {
            e.seed == Seed::OwnerOnly || e.fields.values().any(|f| f.seed == Some(Seed::OwnerOnly))
        })
    }
}
