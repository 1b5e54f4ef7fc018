//! Identity: canonical ids, systems, cross-references, the identity map and match proposals.

use crate::field::{Entity, FieldValue};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

/// The canonical id of a record: a time-ordered UUID v7.
///
/// # Example
/// ```
/// use odoo_integration_model::CanonicalId;
/// let a = CanonicalId::new();
/// let b = CanonicalId::new();
/// assert_ne!(a, b);
/// let parsed: CanonicalId = a.to_string().parse()?;
/// assert_eq!(parsed, a);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CanonicalId(uuid::Uuid);

impl CanonicalId {
    /// A fresh time-ordered id.
    ///
    /// # Example
    /// ```
    /// let id = odoo_integration_model::CanonicalId::new();
    /// assert_eq!(id.to_string().len(), 36);
    /// ```
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CanonicalId(fresh_v7())
    }

    /// An id from its 128-bit value (for tests and stored data).
    ///
    /// # Example
    /// ```
    /// let id = odoo_integration_model::CanonicalId::from_u128(7);
    /// assert_eq!(id, odoo_integration_model::CanonicalId::from_u128(7));
    /// ```
    pub fn from_u128(v: u128) -> Self {
        CanonicalId(uuid::Uuid::from_u128(v))
    }
}

/// A UUID v7: the Unix time in milliseconds, then 74 bits of which 64 are
/// unique within the process (a counter through a bijective mixer) and all
/// random across processes (a seed taken once from the OS).
/// `Uuid::now_v7` asks the OS for randomness on every call, a system call
/// that dominated allocating ids for a page of new records.
fn fresh_v7() -> uuid::Uuid {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (a, b) = *SEED.get_or_init(|| {
        // One OS-random v7 (62 random bits at the end) seeds the process.
        let r = uuid::Uuid::now_v7().as_u128() as u64;
        (r, mix(r ^ 0x5851_f42d_4c95_7f2d))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // splitmix64's finaliser is a bijection: distinct n, distinct bits.
    let unique = mix(a ^ n).to_be_bytes();
    let extra = mix(b.wrapping_add(n)).to_be_bytes();
    // The builder drops the top 4 bits of byte 0 and the top 2 of byte 2
    // (version and variant); the 64 unique bits go where all bits stay.
    let mut bytes = [0u8; 10];
    bytes[0] = extra[0];
    bytes[1] = unique[0];
    bytes[2] = extra[1];
    bytes[3..].copy_from_slice(&unique[1..]);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl fmt::Display for CanonicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for CanonicalId {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s)
            .map(CanonicalId)
            .map_err(|_| IdentityError::InvalidId(s.to_owned()))
    }
}

/// A system that holds records: open-ended, e.g. `odoo`, `salesforce`,
/// `hubspot`, `bamboohr`, `gusto` or the user's own.
///
/// # Example
/// ```
/// use odoo_integration_model::SystemId;
/// assert_eq!(SystemId::odoo(), SystemId::new("odoo"));
/// assert_eq!(SystemId::new("my-erp").as_str(), "my-erp");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SystemId(Arc<str>);

/// A system by name, as [`SystemId::new`].
///
/// # Example
/// ```
/// use odoo_integration_model::SystemId;
/// assert_eq!(SystemId::from("sheet"), SystemId::new("sheet"));
/// ```
impl From<&str> for SystemId {
    fn from(name: &str) -> Self {
        SystemId::new(name)
    }
}

/// A system by name, as [`SystemId::new`].
///
/// # Example
/// ```
/// use odoo_integration_model::SystemId;
/// assert_eq!(SystemId::from(String::from("sheet")).as_str(), "sheet");
/// ```
impl From<String> for SystemId {
    fn from(name: String) -> Self {
        SystemId::new(name)
    }
}

impl SystemId {
    /// A system by name.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::SystemId::new("gusto").to_string(), "gusto");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        SystemId(Arc::from(name.into()))
    }
    /// The name.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::SystemId::hubspot().as_str(), "hubspot");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `odoo`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::SystemId::odoo().as_str(), "odoo");
    /// ```
    pub fn odoo() -> Self {
        SystemId::new("odoo")
    }
    /// `salesforce`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::SystemId::salesforce().as_str(), "salesforce");
    /// ```
    pub fn salesforce() -> Self {
        SystemId::new("salesforce")
    }
    /// `hubspot`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::SystemId::hubspot().as_str(), "hubspot");
    /// ```
    pub fn hubspot() -> Self {
        SystemId::new("hubspot")
    }
    /// `bamboohr`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::SystemId::bamboohr().as_str(), "bamboohr");
    /// ```
    pub fn bamboohr() -> Self {
        SystemId::new("bamboohr")
    }
    /// `gusto`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::SystemId::gusto().as_str(), "gusto");
    /// ```
    pub fn gusto() -> Self {
        SystemId::new("gusto")
    }
}

// Shared text: a system id is cloned into every provenance entry and
// cross-reference, so a clone is a reference count, not an allocation.
impl Serialize for SystemId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SystemId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shared_str(d).map(SystemId)
    }
}

/// Reads a string straight into shared text: one allocation, where going
/// through a `String` (as serde's own `Arc<str>` does) takes two.
pub(crate) fn shared_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = Arc<str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Arc<str>, E> {
            Ok(Arc::from(v))
        }
    }
    d.deserialize_str(Text)
}

impl fmt::Display for SystemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A record's id in one remote system (Odoo's `42`, a Salesforce `001...`).
///
/// # Example
/// ```
/// let r = odoo_integration_model::RemoteId::new("42");
/// assert_eq!(r.as_str(), "42");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RemoteId(String);

impl RemoteId {
    /// A remote id.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::RemoteId::new("a1").to_string(), "a1");
    /// ```
    pub fn new(id: impl Into<String>) -> Self {
        RemoteId(id.into())
    }
    /// The id text.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::RemoteId::new("7").as_str(), "7");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RemoteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Cross-references of one record: `system -> remote id`.
///
/// # Example
/// ```
/// use odoo_integration_model::{CrossRefs, RemoteId, SystemId};
/// let mut x = CrossRefs::default();
/// x.insert(SystemId::odoo(), RemoteId::new("42"));
/// assert_eq!(x.get(&SystemId::odoo()), Some(&RemoteId::new("42")));
/// ```
pub type CrossRefs = BTreeMap<SystemId, RemoteId>;

/// Errors from identity handling.
///
/// # Example
/// ```
/// # use odoo_integration_model::{CanonicalId, IdentityError};
/// assert!(matches!("nope".parse::<CanonicalId>(), Err(IdentityError::InvalidId(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Text that is not a UUID.
    #[error("invalid canonical id `{0}`")]
    InvalidId(String),
    /// The remote id is already linked to another canonical record.
    #[error("{system} record {remote} is already linked to {existing}")]
    AlreadyLinked {
        /// The system.
        system: SystemId,
        /// Its remote id.
        remote: RemoteId,
        /// The canonical record it is linked to.
        existing: CanonicalId,
    },
    /// The canonical record already has another id in that system.
    #[error("{canonical} already has {system} id {existing}")]
    SystemTaken {
        /// The canonical record.
        canonical: CanonicalId,
        /// The system.
        system: SystemId,
        /// The id it has there.
        existing: RemoteId,
    },
}

/// Resolves remote ids to canonical records and links new systems' records.
///
/// An identity map held in memory, for one entity, with the rules every
/// identity store follows: a remote id belongs to one canonical record,
/// and a canonical record has at most one id per system. It is the
/// building block for code that is not a sync pipeline (a one-off matching
/// job, a test). A pipeline keeps its identities in its cross-reference
/// store (`odoo_integration_connectors::XrefStore`, durable, across
/// entities), which is the one place a sync's identities live; canonical
/// records do not carry their cross-references.
///
/// # Example
/// ```
/// use odoo_integration_model::{CanonicalId, IdentityMap, RemoteId, SystemId};
/// let mut map = IdentityMap::default();
/// let id = CanonicalId::new();
/// map.link(id, SystemId::salesforce(), RemoteId::new("001A"))?;
/// map.link(id, SystemId::odoo(), RemoteId::new("42"))?;
/// assert_eq!(map.resolve(&SystemId::odoo(), &RemoteId::new("42")), Some(id));
/// assert_eq!(map.cross_refs(id).map(|x| x.len()), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct IdentityMap {
    by_remote: HashMap<(SystemId, RemoteId), CanonicalId>,
    refs: HashMap<CanonicalId, CrossRefs>,
}

impl IdentityMap {
    /// The canonical record a remote id belongs to.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{IdentityMap, RemoteId, SystemId};
    /// assert_eq!(IdentityMap::default().resolve(&SystemId::odoo(), &RemoteId::new("1")), None);
    /// ```
    pub fn resolve(&self, system: &SystemId, remote: &RemoteId) -> Option<CanonicalId> {
        self.by_remote
            .get(&(system.clone(), remote.clone()))
            .copied()
    }

    /// The cross-references of a canonical record.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{CanonicalId, IdentityMap};
    /// assert!(IdentityMap::default().cross_refs(CanonicalId::new()).is_none());
    /// ```
    pub fn cross_refs(&self, id: CanonicalId) -> Option<&CrossRefs> {
        self.refs.get(&id)
    }

    /// Links a remote record to a canonical one. Linking the same pair twice is a no-op.
    ///
    /// # Errors
    /// [`IdentityError::AlreadyLinked`] if the remote id belongs to another
    /// record, [`IdentityError::SystemTaken`] if the record already has a
    /// different id in that system.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{CanonicalId, IdentityMap, RemoteId, SystemId};
    /// let mut map = IdentityMap::default();
    /// map.link(CanonicalId::new(), SystemId::odoo(), RemoteId::new("1"))?;
    /// assert!(map.link(CanonicalId::new(), SystemId::odoo(), RemoteId::new("1")).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn link(
        &mut self,
        id: CanonicalId,
        system: SystemId,
        remote: RemoteId,
    ) -> Result<(), IdentityError> {
        if let Some(existing) = self.resolve(&system, &remote) {
            if existing == id {
                return Ok(());
            }
            return Err(IdentityError::AlreadyLinked {
                system,
                remote,
                existing,
            });
        }
        if let Some(existing) = self.refs.get(&id).and_then(|x| x.get(&system)) {
            return Err(IdentityError::SystemTaken {
                canonical: id,
                system,
                existing: existing.clone(),
            });
        }
        self.refs
            .entry(id)
            .or_default()
            .insert(system.clone(), remote.clone());
        self.by_remote.insert((system, remote), id);
        Ok(())
    }
}

/// How a match key's values are normalised before comparison.
///
/// # Example
/// ```
/// use odoo_integration_model::Normalize;
/// assert_eq!(Normalize::Email.apply(" Ann@Example.COM "), "ann@example.com");
/// assert_eq!(Normalize::WebDomain.apply("https://www.Example.com/about"), "example.com");
/// assert_eq!(Normalize::Identifier.apply("BE 0123.456.789"), "BE0123456789");
/// assert_eq!(Normalize::Name.apply("Northwind  Traders, Ltd."), "northwind traders");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Normalize {
    /// Compare as written.
    Exact,
    /// Trim and lower-case.
    Email,
    /// Strip scheme, `www.`, path; lower-case.
    WebDomain,
    /// Keep only letters and digits, upper-cased (tax ids, employee numbers).
    Identifier,
    /// A company or person name: lower-cased, punctuation dropped, spaces
    /// collapsed, and a trailing legal form (`Ltd`, `Inc.`, `GmbH`,
    /// `N.V.`, `S.A.`, ...) left out, so "Northwind Traders Ltd." and
    /// "northwind traders" compare equal.
    Name,
}

/// Legal forms left off the end of a name by [`Normalize::Name`], as
/// written once punctuation is dropped (`N.V.` is `nv`).
const LEGAL_FORMS: [&str; 30] = [
    "ltd",
    "limited",
    "llc",
    "llp",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "ug",
    "nv",
    "bv",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "sl",
    "oy",
    "ab",
    "as",
    "aps",
    "pty",
    "pte",
    "kk",
    "company",
];

/// A name as [`Normalize::Name`] compares it.
fn name_key(v: &str) -> String {
    let cleaned: String = v
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else if c == '.' || c == '\'' || c == '’' {
                '\0' // "N.V." is "nv", "O'Neil" is "oneil"
            } else {
                ' '
            }
        })
        .filter(|c| *c != '\0')
        .collect();
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    // Only one legal form is dropped, and never the whole name ("AB").
    if words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

impl Normalize {
    /// Normalises a value.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::Normalize::Exact.apply("A"), "A");
    /// ```
    pub fn apply(&self, v: &str) -> String {
        match self {
            Normalize::Exact => v.to_owned(),
            Normalize::Email => v.trim().to_lowercase(),
            Normalize::WebDomain => {
                let v = v.trim().to_lowercase();
                let v = v.split("://").last().unwrap_or_default();
                let v = v.split('/').next().unwrap_or_default();
                v.strip_prefix("www.").unwrap_or(v).to_owned()
            }
            Normalize::Identifier => v
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_uppercase())
                .collect(),
            Normalize::Name => name_key(v),
        }
    }
}

/// A configurable match key: a field and how to normalise it.
///
/// # Example
/// ```
/// use odoo_integration_model::{MatchKey, Normalize};
/// let k = MatchKey::new("email", Normalize::Email);
/// assert_eq!(k.field(), "email");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchKey {
    field: String,
    normalize: Normalize,
    /// Two records that both have this key and differ on it are not the
    /// same, whatever else they share (two companies with one name but
    /// two tax ids).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    decisive: bool,
}

impl MatchKey {
    /// A key on `field`.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{ClientCompany, MatchKey, Normalize};
    /// let key = MatchKey::new("tax_id", Normalize::Identifier);
    /// let acme = ClientCompany { tax_id: Some("be 0123.456.789".into()), ..Default::default() };
    /// assert_eq!(key.value_of(&acme).as_deref(), Some("BE0123456789"));
    /// ```
    pub fn new(field: impl Into<String>, normalize: Normalize) -> Self {
        MatchKey {
            field: field.into(),
            normalize,
            decisive: false,
        }
    }

    /// Makes the key decisive: a candidate that has a different value for
    /// it is never proposed, however many other keys it shares. Fit for
    /// identifiers (a tax id, an email), not for names.
    ///
    /// # Example
    /// ```
    /// use odoo_integration_model::{propose_match, CanonicalId, ClientCompany, MatchKey, MatchOutcome, Normalize};
    /// let acme = |vat: &str| ClientCompany { legal_name: "Acme".into(), tax_id: Some(vat.into()), ..Default::default() };
    /// let keys = [MatchKey::new("legal_name", Normalize::Name), MatchKey::new("tax_id", Normalize::Identifier).decisive()];
    /// let other = acme("FR1");
    /// // Same name, another tax id: not a match.
    /// assert_eq!(propose_match(&acme("BE1"), [(CanonicalId::new(), &other)], &keys), MatchOutcome::NoMatch);
    /// ```
    #[must_use]
    pub fn decisive(mut self) -> Self {
        self.decisive = true;
        self
    }

    /// Whether the key is [decisive](Self::decisive).
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{MatchKey, Normalize};
    /// assert!(MatchKey::new("email", Normalize::Email).decisive().is_decisive());
    /// ```
    pub fn is_decisive(&self) -> bool {
        self.decisive
    }

    /// How the key's values are normalised.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{MatchKey, Normalize};
    /// assert_eq!(MatchKey::new("email", Normalize::Email).normalize(), Normalize::Email);
    /// ```
    pub fn normalize(&self) -> Normalize {
        self.normalize
    }
    /// The field name.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{MatchKey, Normalize};
    /// assert_eq!(MatchKey::new("website", Normalize::WebDomain).field(), "website");
    /// ```
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The normalised key value of a record, if the field is set and non-empty.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{MatchKey, Normalize, Contact};
    /// let mut c = Contact::default();
    /// c.email = Some("A@B.com".into());
    /// assert_eq!(MatchKey::new("email", Normalize::Email).value_of(&c).as_deref(), Some("a@b.com"));
    /// ```
    pub fn value_of<E: Entity>(&self, record: &E) -> Option<String> {
        let v = record.get(&self.field)?;
        let text = match v {
            FieldValue::Null => return None,
            FieldValue::Text(t) => t,
            other => other.to_string(),
        };
        let n = self.normalize.apply(&text);
        (!n.is_empty()).then_some(n)
    }
}

/// One proposed match and why.
///
/// # Example
/// ```
/// # use odoo_integration_model::{CanonicalId, MatchProposal};
/// let p = MatchProposal { candidate: CanonicalId::new(), reasons: vec!["email = a@b.com".into()] };
/// assert_eq!(p.reasons.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchProposal {
    /// The existing canonical record.
    pub candidate: CanonicalId,
    /// Which keys matched, e.g. `email = ann@example.com`.
    pub reasons: Vec<String>,
}

/// The result of [`propose_match`]: nothing, one proposal, or an ambiguity
/// that a person must settle (never merged automatically).
///
/// # Example
/// ```
/// # use odoo_integration_model::MatchOutcome;
/// assert!(matches!(MatchOutcome::NoMatch, MatchOutcome::NoMatch));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum MatchOutcome {
    /// No existing record shares a key.
    NoMatch,
    /// Exactly one record shares one or more keys.
    Unique(MatchProposal),
    /// Several records share keys; each is listed with its reasons.
    Ambiguous(Vec<MatchProposal>),
}

/// Proposes which existing record an incoming one is, by the given keys.
///
/// # Example
/// ```
/// use odoo_integration_model::{propose_match, CanonicalId, ClientCompany, MatchKey, MatchOutcome, Normalize};
/// let mut known = ClientCompany::default();
/// known.website = Some("https://acme.example".into());
/// let id = CanonicalId::new();
/// let mut incoming = ClientCompany::default();
/// incoming.website = Some("www.ACME.example/contact".into());
/// let keys = [MatchKey::new("website", Normalize::WebDomain)];
/// match propose_match(&incoming, [(id, &known)], &keys) {
///     MatchOutcome::Unique(p) => assert_eq!(p.candidate, id),
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn propose_match<'a, E: Entity + 'a>(
    incoming: &E,
    existing: impl IntoIterator<Item = (CanonicalId, &'a E)>,
    keys: &[MatchKey],
) -> MatchOutcome {
    let wanted: Vec<(&MatchKey, String)> = keys
        .iter()
        .filter_map(|k| k.value_of(incoming).map(|v| (k, v)))
        .collect();
    let mut found = Vec::new();
    for (id, rec) in existing {
        let ruled_out = wanted
            .iter()
            .any(|(k, v)| k.decisive && k.value_of(rec).is_some_and(|theirs| theirs != *v));
        if ruled_out {
            continue;
        }
        let reasons: Vec<String> = wanted
            .iter()
            .filter(|(k, v)| k.value_of(rec).as_ref() == Some(v))
            .map(|(k, v)| format!("{} = {}", k.field, v))
            .collect();
        if !reasons.is_empty() {
            found.push(MatchProposal {
                candidate: id,
                reasons,
            });
        }
    }
    match found.len() {
        0 => MatchOutcome::NoMatch,
        1 => found
            .pop()
            .map_or(MatchOutcome::NoMatch, MatchOutcome::Unique),
        _ => MatchOutcome::Ambiguous(found),
    }
}

/// The keys a first sync matches an entity's records by, when a sink
/// already holds some: for clients the tax id and registry number
/// (decisive), the website's domain and the normalised legal name; for
/// contacts the email (decisive); for employees the employee number and
/// work email (decisive). Other entities have none: they are not matched
/// unless keys are given.
///
/// # Example
/// ```
/// use odoo_integration_model::{match_keys_for, Normalize};
/// let keys = match_keys_for("client");
/// assert!(keys.iter().any(|k| k.field() == "website" && k.normalize() == Normalize::WebDomain));
/// assert!(match_keys_for("invoice").is_empty());
/// ```
pub fn match_keys_for(entity: &str) -> Vec<MatchKey> {
    match entity {
        "client" => vec![
            MatchKey::new("tax_id", Normalize::Identifier).decisive(),
            MatchKey::new("company_registry", Normalize::Identifier).decisive(),
            MatchKey::new("website", Normalize::WebDomain),
            MatchKey::new("legal_name", Normalize::Name),
        ],
        "contact" => vec![MatchKey::new("email", Normalize::Email).decisive()],
        "employee" => vec![
            MatchKey::new("employee_number", Normalize::Identifier).decisive(),
            MatchKey::new("work_email", Normalize::Email).decisive(),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod matching {
    use super::*;
    use crate::{ClientCompany, Employee};

    #[test]
    fn names_compare_without_case_punctuation_or_legal_form() {
        let n = |v: &str| Normalize::Name.apply(v);
        assert_eq!(n("Northwind Traders Ltd."), "northwind traders");
        assert_eq!(n("NORTHWIND   traders"), "northwind traders");
        assert_eq!(n("Acme N.V."), "acme");
        assert_eq!(n("O'Neil & Sons"), "oneil sons");
        assert_eq!(n("AB"), "ab", "a name that is only a legal form stays");
        assert_ne!(n("Acme Trading"), n("Acme"));
    }

    #[test]
    fn a_decisive_key_rules_a_candidate_out_and_others_still_match() {
        let keys = match_keys_for("client");
        let company = |name: &str, vat: Option<&str>, web: Option<&str>| ClientCompany {
            legal_name: name.into(),
            tax_id: vat.map(Into::into),
            website: web.map(Into::into),
            ..Default::default()
        };
        let incoming = company(
            "Northwind Traders",
            Some("GB123"),
            Some("https://northwind.example"),
        );
        let same = company("Northwind Traders Ltd", None, Some("www.northwind.example"));
        let other = company("Northwind Traders", Some("GB999"), None);
        let (a, b) = (CanonicalId::new(), CanonicalId::new());
        match propose_match(&incoming, [(a, &same), (b, &other)], &keys) {
            MatchOutcome::Unique(p) => {
                assert_eq!(p.candidate, a);
                assert_eq!(p.reasons.len(), 2, "{:?}", p.reasons);
            }
            other => panic!("{other:?}"),
        }
        // Two that share only the name: a person decides.
        let twin = company("Northwind Traders", None, None);
        let alone = company("Northwind Traders", None, None);
        let outcome = propose_match(&twin, [(a, &alone), (b, &same)], &keys);
        assert!(
            matches!(outcome, MatchOutcome::Ambiguous(ref all) if all.len() == 2),
            "{outcome:?}"
        );
    }

    #[test]
    fn employees_match_by_number_or_work_email() {
        let keys = match_keys_for("employee");
        let e = |n: &str, mail: &str| Employee {
            employee_number: n.into(),
            work_email: Some(mail.into()),
            ..Default::default()
        };
        let held = e("", "Ann.Lee@example.com");
        let id = CanonicalId::new();
        assert!(matches!(
            propose_match(&e("E-7", "ann.lee@example.com"), [(id, &held)], &keys),
            MatchOutcome::Unique(_)
        ));
        let moved = e("E-8", "ann.lee@example.com");
        assert_eq!(
            propose_match(&e("E-7", "ann.lee@example.com"), [(id, &moved)], &keys),
            MatchOutcome::NoMatch,
            "another employee number is another person"
        );
        assert!(match_keys_for("timesheet").is_empty());
    }
}

#[cfg(test)]
mod fresh_ids {
    use super::CanonicalId;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_v7_and_carry_the_time() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let ids: Vec<CanonicalId> = (0..200_000).map(|_| CanonicalId::new()).collect();
        let distinct: HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in ids.iter().step_by(997) {
            assert_eq!(id.0.get_version_num(), 7);
            assert_eq!(id.0.get_variant(), uuid::Variant::RFC4122);
            let (secs, nanos) = id.0.get_timestamp().map(|t| t.to_unix()).unwrap_or((0, 0));
            let millis = secs * 1000 + u64::from(nanos) / 1_000_000;
            assert!(millis >= before && millis < before + 60_000, "{id}");
        }
    }

    #[test]
    fn ids_from_many_threads_do_not_collide() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..20_000).map(|_| CanonicalId::new()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            for id in h.join().unwrap_or_default() {
                assert!(all.insert(id));
            }
        }
        assert_eq!(all.len(), 80_000);
    }
}
