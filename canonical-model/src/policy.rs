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

/// The rule for one field: its owner (if any) and strategy.
///
/// # Example
/// ```
/// use odoo_integration_model::{FieldRule, Strategy, SystemId};
/// let r = FieldRule { owner: Some(SystemId::odoo()), strategy: Strategy::OwnerWins };
/// assert_eq!(r.owner, Some(SystemId::odoo()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRule {
    /// The system of record; `None`: nobody owns the field.
    pub owner: Option<SystemId>,
    /// The conflict strategy.
    pub strategy: Strategy,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct EntityPolicy {
    default_owner: Option<SystemId>,
    strategy: Strategy,
    fields: BTreeMap<String, (Option<SystemId>, Option<Strategy>)>,
}

/// A validated ownership policy. Load with [`Policy::from_toml`] or
/// [`Policy::from_json`]; the format is:
///
/// ```toml
/// [client]
/// default_owner = "odoo"          # optional
/// strategy = "owner-wins"         # optional; owner-wins | latest-wins | hold-for-review
/// [client.fields]
/// industry = "salesforce"                         # owner only
/// "address.*" = "odoo"                            # a field group
/// website = { owner = "hubspot", strategy = "latest-wins" }
/// ```
///
/// A field's rule is the most specific one: the field itself, then its
/// group (`address.*`), then the entity's `default_owner`; the strategy falls
/// back to the entity's.
///
/// # Example
/// ```
/// use odoo_integration_model::{Policy, Strategy, SystemId};
/// let p = Policy::from_toml(r#"
/// [client]
/// default_owner = "odoo"
/// [client.fields]
/// industry = "salesforce"
/// "address.*" = { owner = "hubspot", strategy = "latest-wins" }
/// "#)?;
/// assert_eq!(p.rule("client", "industry").owner, Some(SystemId::salesforce()));
/// assert_eq!(p.rule("client", "address.city").strategy, Strategy::LatestWins);
/// assert_eq!(p.rule("client", "tax_id").owner, Some(SystemId::odoo()));
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

/// A policy file that could not be loaded, with where the mistake is.
///
/// # Example
/// ```
/// use odoo_integration_model::{Policy, PolicyError};
/// let err = Policy::from_toml("[spaceship]\ndefault_owner = \"odoo\"\n").unwrap_err();
/// assert!(matches!(err, PolicyError::UnknownEntity { .. }));
/// assert_eq!(err.to_string(), "line 1, column 2: unknown entity `spaceship`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
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
    /// An empty system name.
    #[error("{at}: empty system name")]
    EmptySystem {
        /// Where.
        at: Location,
    },
}

// ----- raw file shapes, generic over how a located string is read -----

/// A field's rule as written: `"system"` or `{ owner = "...", strategy = "..." }`.
enum RawField<S> {
    Owner(String),
    Full {
        owner: Option<S>,
        strategy: Option<S>,
    },
}

impl<'de, S: Deserialize<'de>> Deserialize<'de> for RawField<S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<S>(std::marker::PhantomData<S>);
        impl<'de, S: Deserialize<'de>> serde::de::Visitor<'de> for V<S> {
            type Value = RawField<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a system name or a table with `owner` and/or `strategy`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawField::Owner(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let (mut owner, mut strategy) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "owner" => owner = Some(map.next_value::<S>()?),
                        "strategy" => strategy = Some(map.next_value::<S>()?),
                        other => {
                            return Err(serde::de::Error::unknown_field(
                                other,
                                &["owner", "strategy"],
                            ));
                        }
                    }
                }
                Ok(RawField::Full { owner, strategy })
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity<S: Ord> {
    default_owner: Option<S>,
    strategy: Option<S>,
    #[serde(default = "BTreeMap::new")]
    fields: BTreeMap<S, RawField<S>>,
}

/// A string read from a file with a way to say where it was.
trait Located: Ord {
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

impl Policy {
    /// Loads and validates a TOML policy.
    ///
    /// # Errors
    /// [`PolicyError`] with the line and column of the mistake.
    ///
    /// # Example
    /// ```
    /// let err = odoo_integration_model::Policy::from_toml("[client.fields]\nindustri = \"salesforce\"\n").unwrap_err();
    /// assert_eq!(err.to_string(), "line 2, column 1: unknown field `industri` of client");
    /// ```
    pub fn from_toml(src: &str) -> Result<Policy, PolicyError> {
        let raw: BTreeMap<toml::Spanned<String>, RawEntity<toml::Spanned<String>>> =
            toml::from_str(src).map_err(|e| PolicyError::Syntax {
                at: e
                    .span()
                    .map_or(Location::Unknown, |s| line_col(src, s.start)),
                message: e.message().to_owned(),
            })?;
        Self::build(raw, src)
    }

    /// Loads and validates a JSON policy (same shape as TOML).
    ///
    /// # Errors
    /// [`PolicyError`] with the JSON path (or line and column for syntax errors).
    ///
    /// # Example
    /// ```
    /// let err = odoo_integration_model::Policy::from_json(r#"{"client": {"strategy": "owner-loses"}}"#).unwrap_err();
    /// assert!(err.to_string().starts_with("$.client.strategy: unknown strategy"));
    /// ```
    pub fn from_json(src: &str) -> Result<Policy, PolicyError> {
        let raw: BTreeMap<String, RawEntity<String>> =
            serde_json::from_str(src).map_err(|e| PolicyError::Syntax {
                at: Location::Toml {
                    line: e.line(),
                    column: e.column(),
                },
                message: e.to_string(),
            })?;
        Self::build(raw, src)
    }

    fn build<S: Located>(raw: BTreeMap<S, RawEntity<S>>, src: &str) -> Result<Policy, PolicyError> {
        let system = |s: &S, path: &str| -> Result<SystemId, PolicyError> {
            if s.text().trim().is_empty() {
                return Err(PolicyError::EmptySystem {
                    at: s.at(src, path),
                });
            }
            Ok(SystemId::new(s.text()))
        };
        let strategy = |s: &S, path: &str| -> Result<Strategy, PolicyError> {
            s.text()
                .parse()
                .map_err(|strategy| PolicyError::UnknownStrategy {
                    at: s.at(src, path),
                    strategy,
                })
        };
        let mut entities = BTreeMap::new();
        for (name, e) in raw {
            let epath = json_key("$", name.text());
            let Some(fields) = crate::schema(name.text()) else {
                return Err(PolicyError::UnknownEntity {
                    at: name.at(src, &epath),
                    entity: name.text().to_owned(),
                });
            };
            let mut ep = EntityPolicy::default();
            if let Some(o) = &e.default_owner {
                ep.default_owner = Some(system(o, &format!("{epath}.default_owner"))?);
            }
            if let Some(s) = &e.strategy {
                ep.strategy = strategy(s, &format!("{epath}.strategy"))?;
            }
            for (field, rule) in &e.fields {
                let fpath = json_key(&format!("{epath}.fields"), field.text());
                let known = match field.text().strip_suffix(".*") {
                    Some(group) => fields
                        .iter()
                        .any(|f| f.strip_prefix(group).is_some_and(|r| r.starts_with('.'))),
                    None => fields.contains(&field.text()),
                };
                if !known {
                    return Err(PolicyError::UnknownField {
                        at: field.at(src, &fpath),
                        entity: name.text().to_owned(),
                        field: field.text().to_owned(),
                    });
                }
                let parsed = match rule {
                    RawField::Owner(o) if o.trim().is_empty() => {
                        return Err(PolicyError::EmptySystem {
                            at: field.at(src, &fpath),
                        });
                    }
                    RawField::Owner(o) => (Some(SystemId::new(o)), None),
                    RawField::Full { owner, strategy: s } => (
                        owner
                            .as_ref()
                            .map(|o| system(o, &format!("{fpath}.owner")))
                            .transpose()?,
                        s.as_ref()
                            .map(|s| strategy(s, &format!("{fpath}.strategy")))
                            .transpose()?,
                    ),
                };
                ep.fields.insert(field.text().to_owned(), parsed);
            }
            entities.insert(name.text().to_owned(), ep);
        }
        Ok(Policy { entities })
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
            };
        };
        let specific = e.fields.get(field).or_else(|| {
            // Longest matching group wins: "a.b.*" before "a.*".
            let mut group = String::with_capacity(field.len() + 2);
            let mut prefix = field;
            while let Some((head, _)) = prefix.rsplit_once('.') {
                group.clear();
                group.push_str(head);
                group.push_str(".*");
                if let Some(r) = e.fields.get(&group) {
                    return Some(r);
                }
                prefix = head;
            }
            None
        });
        let (owner, strategy) = specific.cloned().unwrap_or((None, None));
        FieldRule {
            owner: owner.or_else(|| e.default_owner.clone()),
            strategy: strategy.unwrap_or(e.strategy),
        }
    }
}
