//! Owners: the users records are assigned to (`hubspot_owner_id`), what
//! `GET /crm/v3/owners` and `GET /crm/v3/owners/{ownerId}` answer, and
//! the rule every write of an owner id is checked against.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::store::{Fail, iso};

/// The property every CRM object holds its owner in.
pub(super) const OWNER_PROPERTY: &str = "hubspot_owner_id";

/// The most owners one page of `GET /crm/v3/owners` holds.
const PAGE_MAX: usize = 500;

/// An owner of the fake account.
#[derive(Debug, Clone)]
pub(super) struct Owner {
    id: u64,
    user_id: u64,
    email: String,
    first_name: String,
    last_name: String,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    archived: bool,
}

impl Owner {
    /// HubSpot's `PublicOwner`: an archived owner's `userId` is `null`,
    /// its user id kept in `userIdIncludingInactive`.
    fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": if self.archived { Value::Null } else { json!(self.user_id) },
            "userIdIncludingInactive": self.user_id,
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
            "archived": self.archived,
            "teams": [],
        })
    }
}

/// The account's owners, in the order they were added.
#[derive(Debug, Clone)]
pub(super) struct Owners {
    owners: Vec<Owner>,
    next_id: u64,
}

/// What a listing asks for.
pub(super) struct ListOwners<'a> {
    pub(super) email: Option<&'a str>,
    pub(super) after: Option<&'a str>,
    pub(super) limit: Option<&'a str>,
    pub(super) archived: bool,
}

impl Owners {
    pub(super) fn new() -> Self {
        Owners {
            owners: Vec::new(),
            // Owner ids are their own number space, not record ids.
            next_id: 70_000_001,
        }
    }

    /// Adds an active owner; its id.
    pub(super) fn add(&mut self, email: &str, first: &str, last: &str, at: DateTime<Utc>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.owners.push(Owner {
            id,
            // HubSpot's user ids differ from owner ids.
            user_id: id - 70_000_000 + 9_000_000,
            email: email.to_owned(),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            created: at,
            updated: at,
            archived: false,
        });
        id
    }

    /// Archives an owner (a deactivated user); false when there is no
    /// such active owner.
    pub(super) fn archive(&mut self, id: &str, at: DateTime<Utc>) -> bool {
        match self
            .owners
            .iter_mut()
            .find(|o| o.id.to_string() == id && !o.archived)
        {
            Some(o) => {
                o.archived = true;
                o.updated = at;
                true
            }
            None => false,
        }
    }

    /// Whether `id` is an active owner: the only values `hubspot_owner_id`
    /// takes (its options are the account's active owners).
    pub(super) fn is_assignable(&self, id: &str) -> bool {
        self.owners
            .iter()
            .any(|o| !o.archived && o.id.to_string() == id.trim())
    }

    /// Why writing `value` to `hubspot_owner_id` is refused, as HubSpot
    /// refuses an option the property does not have.
    pub(super) fn refuse(&self, value: &str) -> Option<String> {
        if self.is_assignable(value) {
            return None;
        }
        let archived = self
            .owners
            .iter()
            .any(|o| o.archived && o.id.to_string() == value.trim());
        Some(if archived {
            format!(
                "{value} was not one of the allowed options: the owner is archived (deactivated)"
            )
        } else {
            format!("{value} was not one of the allowed options: no owner has this id")
        })
    }

    /// `GET /crm/v3/owners`: active owners (or only archived ones), by
    /// email when asked (without case), `limit` up to 500 (default 100),
    /// paged with `after`.
    pub(super) fn list(&self, q: &ListOwners<'_>, base: &str) -> Result<(u16, Value), Fail> {
        let limit = match q.limit {
            None => 100,
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| Fail::invalid(format!("limit must be a number, not `{v}`")))?
                .clamp(1, PAGE_MAX),
        };
        let start = match q.after {
            None => 0,
            Some(a) => a.parse::<usize>().map_err(|_| {
                Fail::invalid(format!("after `{a}` is not a paging token of this list"))
            })?,
        };
        let matching: Vec<&Owner> = self
            .owners
            .iter()
            .filter(|o| o.archived == q.archived)
            .filter(|o| {
                q.email
                    .is_none_or(|e| o.email.eq_ignore_ascii_case(e.trim()))
            })
            .collect();
        let page: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(limit)
            .map(|o| o.to_json())
            .collect();
        let mut body = json!({ "results": page });
        let next = start + limit;
        if next < matching.len() {
            body["paging"] = json!({"next": {
                "after": next.to_string(),
                "link": format!("{base}/crm/v3/owners?limit={limit}&after={next}"),
            }});
        }
        Ok((200, body))
    }

    /// `GET /crm/v3/owners/{ownerId}`: by `id` (or `userId`), an archived
    /// owner only with `archived=true`; 404 otherwise.
    pub(super) fn read(
        &self,
        id: &str,
        id_property: Option<&str>,
        archived: bool,
    ) -> Result<(u16, Value), Fail> {
        let by_user = match id_property {
            None | Some("id") => false,
            Some("userId") => true,
            Some(other) => {
                return Err(Fail::invalid(format!(
                    "idProperty must be id or userId, not `{other}`"
                )));
            }
        };
        let n = id
            .parse::<u64>()
            .map_err(|_| Fail::invalid(format!("ownerId `{id}` is not a number")))?;
        self.owners
            .iter()
            .find(|o| o.archived == archived && if by_user { o.user_id == n } else { o.id == n })
            .map(|o| (200, o.to_json()))
            .ok_or_else(|| Fail::not_found(format!("Owner {id} not found")))
    }
}
