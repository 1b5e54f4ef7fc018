//! Record owners: a canonical email field ⇄ the owner id a record holds
//! (`hubspot_owner_id`), through the owners API.

use super::HubSpotConnector;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use odoo_integration_model::SystemId;
use reqwest::Method;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// How long an owner listing is trusted before it is read again.
const FRESH_FOR: Duration = Duration::from_secs(10 * 60);

/// A canonical email field ⇄ the record's owner.
///
/// HubSpot keeps a record's owner as an owner id in a property
/// (`hubspot_owner_id`); the canonical model knows the person by email.
/// The connector lists the account's owners (`GET /crm/v3/owners`, paged,
/// kept ten minutes) and turns ids into emails on reads and emails
/// (without case) into ids on writes. Reading, an id no active owner has
/// is looked up among the archived owners (listed once, when one is
/// needed), so a deal of a person who left still names them; an id no
/// owner has is left out of the change, with a warning. Writing, an email
/// no active owner has fails that record with
/// [`ConnectorErrorKind::Invalid`] naming the email (HubSpot takes only
/// active owners); an empty owner clears the property. Listing owners
/// needs the token's `crm.objects.owners.read` scope; without it reads
/// fail as [`ConnectorErrorKind::Forbidden`]: set [`ObjectMap::owner`](super::ObjectMap::owner)
/// to `None`.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::{ObjectMap, OwnerMap};
/// assert_eq!(ObjectMap::deals().owner, Some(OwnerMap::deals()));
/// // A token without the `crm.objects.owners.read` scope: no owners.
/// let mut deals = ObjectMap::deals();
/// deals.owner = None;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerMap {
    /// The canonical field holding the owner's email (`owner`).
    pub canonical: String,
    /// The property holding the owner id (`hubspot_owner_id`).
    pub property: String,
}

impl OwnerMap {
    /// A canonical email field ⇄ an owner property.
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::hubspot::OwnerMap::new("owner", "hs_owner_of_record");
    /// assert_eq!(m.property, "hs_owner_of_record");
    /// ```
    pub fn new(canonical: impl Into<String>, property: impl Into<String>) -> Self {
        OwnerMap {
            canonical: canonical.into(),
            property: property.into(),
        }
    }

    /// Deals: `owner` ⇄ `hubspot_owner_id`.
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::hubspot::OwnerMap::deals();
    /// assert_eq!((m.canonical.as_str(), m.property.as_str()), ("owner", "hubspot_owner_id"));
    /// ```
    pub fn deals() -> Self {
        OwnerMap::new("owner", "hubspot_owner_id")
    }
}

/// One owner of a listing.
#[derive(Debug, Deserialize)]
struct WireOwner {
    id: String,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Listing {
    #[serde(default)]
    results: Vec<WireOwner>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
struct Paging {
    #[serde(default)]
    next: Option<Next>,
}

#[derive(Debug, Deserialize)]
struct Next {
    after: String,
}

/// The owners listed: (id, email), active ones and, once needed, the
/// archived ones.
#[derive(Debug)]
struct Directory {
    at: Instant,
    active: Vec<(String, String)>,
    archived: Option<Vec<(String, String)>>,
}

/// The owners read so far.
#[derive(Debug, Default)]
pub(crate) struct OwnerCache {
    read: tokio::sync::Mutex<Option<Directory>>,
}

/// Why an email cannot be written as an owner.
fn no_owner(email: &str, archived: bool) -> ConnectorError {
    let why = if archived {
        "its HubSpot owner is archived (a deactivated user); HubSpot assigns only active owners"
    } else {
        "no HubSpot owner has this email"
    };
    ConnectorError::new(
        ConnectorErrorKind::Invalid,
        format!("owner `{email}`: {why}"),
    )
    .with_system(SystemId::hubspot())
}

impl HubSpotConnector {
    /// Every owner of one listing (active, or only the archived ones),
    /// page by page.
    async fn list_owners(&self, archived: bool) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut path = format!("/crm/v3/owners?limit=500&archived={archived}");
            if let Some(a) = &after {
                path.push_str("&after=");
                path.push_str(&crate::http::percent_encode(a));
            }
            let listing: Listing = self
                .client
                .json(Method::GET, &path, None)
                .await
                .map_err(|e| e.with_system(SystemId::hubspot()))?;
            out.extend(
                listing
                    .results
                    .into_iter()
                    .filter_map(|o| Some((o.id, o.email?.trim().to_owned()))),
            );
            let next = listing.paging.and_then(|p| p.next).map(|n| n.after);
            match next {
                // The same page again is no progress: stop, loudly.
                Some(n) if after.as_deref() == Some(n.as_str()) => {
                    return Err(ConnectorError::new(
                        ConnectorErrorKind::NoProgress,
                        "GET /crm/v3/owners answered the same page twice",
                    )
                    .with_system(SystemId::hubspot()));
                }
                Some(n) => after = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// The directory: listed again when older than ten minutes, or when
    /// `missing` (something sought is not in it) and it was not listed in
    /// this call; the archived owners listed too when something is still
    /// missing.
    async fn directory<'a>(
        &self,
        dir: &'a mut Option<Directory>,
        missing: impl Fn(&Directory) -> bool,
    ) -> Result<&'a Directory> {
        let mut fresh = false;
        if dir.as_ref().is_none_or(|d| d.at.elapsed() >= FRESH_FOR) {
            *dir = Some(Directory {
                at: Instant::now(),
                active: self.list_owners(false).await?,
                archived: None,
            });
            fresh = true;
        }
        if !fresh && dir.as_ref().is_some_and(&missing) {
            // An owner added since the listing.
            *dir = Some(Directory {
                at: Instant::now(),
                active: self.list_owners(false).await?,
                archived: None,
            });
        }
        if let Some(d) = dir.as_mut()
            && d.archived.is_none()
            && missing(d)
        {
            d.archived = Some(self.list_owners(true).await?);
        }
        dir.as_ref().ok_or_else(|| {
            ConnectorError::new(ConnectorErrorKind::Protocol, "no owner listing")
                .with_system(SystemId::hubspot())
        })
    }

    /// The email of each owner id of `ids` that an owner (active, else
    /// archived) has.
    pub(crate) async fn owner_emails(&self, ids: &[&str]) -> Result<HashMap<String, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut read = self.owners.read.lock().await;
        let known = |d: &Directory, id: &str| {
            d.active
                .iter()
                .chain(d.archived.iter().flatten())
                .any(|(o, _)| o == id)
        };
        let dir = self
            .directory(&mut read, |d| ids.iter().any(|id| !known(d, id)))
            .await?;
        Ok(dir
            .active
            .iter()
            .chain(dir.archived.iter().flatten())
            .filter(|(id, _)| ids.contains(&id.as_str()))
            .map(|(id, email)| (id.clone(), email.clone()))
            .collect())
    }

    /// The active owner id of each email of `emails` (by lowercase
    /// email), or why it has none.
    pub(crate) async fn owner_ids(
        &self,
        emails: &[String],
    ) -> Result<HashMap<String, std::result::Result<String, ConnectorError>>> {
        if emails.is_empty() {
            return Ok(HashMap::new());
        }
        let mut read = self.owners.read.lock().await;
        let active = |d: &Directory, email: &str| {
            d.active.iter().any(|(_, e)| e.eq_ignore_ascii_case(email))
        };
        let dir = self
            .directory(&mut read, |d| emails.iter().any(|e| !active(d, e)))
            .await?;
        Ok(emails
            .iter()
            .map(|email| {
                let found = dir
                    .active
                    .iter()
                    .find(|(_, e)| e.eq_ignore_ascii_case(email))
                    .map(|(id, _)| id.clone());
                let answer = found.ok_or_else(|| {
                    let archived = dir
                        .archived
                        .iter()
                        .flatten()
                        .any(|(_, e)| e.eq_ignore_ascii_case(email));
                    no_owner(email, archived)
                });
                (email.to_lowercase(), answer)
            })
            .collect())
    }
}
