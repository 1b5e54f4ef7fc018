//! Reading the three kinds of request body into (route key, ids).

use super::WebhookError;
use odoo_integration_model::RemoteId;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The ids a body names, per route key (object type, model, entity), each
/// in the order first named.
pub(super) type Named = BTreeMap<String, Vec<RemoteId>>;

fn add(named: &mut Named, key: &str, id: RemoteId) {
    let ids = named.entry(key.to_owned()).or_default();
    if !ids.contains(&id) {
        ids.push(id);
    }
}

/// One HubSpot webhook event, as much of it as routing needs. HubSpot
/// sends a JSON array of up to 100 of these; property changes, creations,
/// deletions, restores, merges (`primaryObjectId`, `mergedObjectIds`) and
/// association changes (`fromObjectId`, no `objectId`), in the legacy
/// `contact.creation` form or the generic `object.creation` one with an
/// `objectTypeId` (`fromObjectTypeId` for association changes).
#[cfg(feature = "hubspot")]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HubSpotEvent {
    subscription_type: String,
    #[serde(default)]
    object_id: Option<u64>,
    #[serde(default)]
    object_type_id: Option<String>,
    #[serde(default)]
    from_object_id: Option<u64>,
    /// Generic association changes name the changed record's type here.
    #[serde(default)]
    from_object_type_id: Option<String>,
    #[serde(default)]
    primary_object_id: Option<u64>,
    #[serde(default)]
    merged_object_ids: Vec<u64>,
}

/// HubSpot's standard object type ids, as the generic `object.*`
/// subscriptions name them.
#[cfg(feature = "hubspot")]
fn object_name(type_id: &str) -> &str {
    match type_id {
        "0-1" => "contact",
        "0-2" => "company",
        "0-3" => "deal",
        "0-5" => "ticket",
        "0-7" => "product",
        "0-8" => "line_item",
        other => other,
    }
}

/// The records a HubSpot batch is about, per object type (`contact`,
/// `company`, `deal`, …, or a custom object's type id).
#[cfg(feature = "hubspot")]
pub(super) fn hubspot(body: &[u8]) -> Result<Named, WebhookError> {
    let events: Vec<HubSpotEvent> = serde_json::from_slice(body)
        .map_err(|e| WebhookError::malformed(format!("not a HubSpot webhook batch: {e}")))?;
    let mut named = Named::new();
    for e in events {
        let (prefix, _) = e
            .subscription_type
            .split_once('.')
            .unwrap_or((e.subscription_type.as_str(), ""));
        let type_id = e
            .object_type_id
            .as_deref()
            .or(e.from_object_type_id.as_deref());
        let object = match (prefix, type_id) {
            ("object", Some(type_id)) => object_name(type_id),
            ("object", None) => {
                // Refusing it would refuse the batch, which HubSpot would
                // send again and again: skipped, and said.
                tracing::warn!(
                    subscription = %e.subscription_type,
                    "HubSpot webhook event without objectTypeId or fromObjectTypeId skipped"
                );
                continue;
            }
            (legacy, _) => legacy,
        };
        let ids = e
            .object_id
            .into_iter()
            .chain(e.from_object_id)
            .chain(e.primary_object_id)
            .chain(e.merged_object_ids.iter().copied());
        for id in ids {
            add(&mut named, object, RemoteId::new(id.to_string()));
        }
    }
    Ok(named)
}

/// The body of Odoo's "Send Webhook Notification" server action (Odoo
/// 17, 18, 19): a JSON object with `_model`, `_id` and `_action` (the
/// action's name and id), plus the fields the action was told to send.
pub(super) fn odoo(body: &[u8]) -> Result<Named, WebhookError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::malformed(format!("not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(WebhookError::malformed(
            "an Odoo webhook notification is a JSON object",
        ));
    };
    let model = fields
        .get("_model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| WebhookError::malformed("no `_model` (a model name) in the notification"))?;
    let id = fields
        .get("_id")
        .and_then(Value::as_i64)
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            WebhookError::malformed("no `_id` (a positive record id) in the notification")
        })?;
    let mut named = Named::new();
    add(&mut named, model, RemoteId::new(id.to_string()));
    Ok(named)
}

/// An id of the generic endpoint: text or a whole number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AnyId {
    Text(String),
    Number(u64),
}

/// The generic endpoint's body: `{"entity": "client", "ids": ["17", 18]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Generic {
    entity: String,
    ids: Vec<AnyId>,
}

pub(super) fn generic(body: &[u8]) -> Result<Named, WebhookError> {
    let event: Generic = serde_json::from_slice(body).map_err(|e| {
        WebhookError::malformed(format!("expected {{\"entity\": …, \"ids\": […]}}: {e}"))
    })?;
    if event.entity.is_empty() {
        return Err(WebhookError::malformed("`entity` is empty"));
    }
    let mut named = Named::new();
    for id in event.ids {
        let id = match id {
            AnyId::Text(t) if !t.trim().is_empty() => t.trim().to_owned(),
            AnyId::Text(_) => return Err(WebhookError::malformed("an empty id")),
            AnyId::Number(n) => n.to_string(),
        };
        add(&mut named, &event.entity, RemoteId::new(id));
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(named: &Named, key: &str) -> Vec<String> {
        named
            .get(key)
            .into_iter()
            .flatten()
            .map(|id| id.as_str().to_owned())
            .collect()
    }

    #[cfg(feature = "hubspot")]
    #[test]
    fn hubspot_events_of_every_shape_name_their_records() {
        let body = br#"[
            {"eventId":1,"subscriptionType":"company.propertyChange","objectId":981,"propertyName":"name","propertyValue":"Acme","occurredAt":1},
            {"eventId":2,"subscriptionType":"company.propertyChange","objectId":981,"propertyName":"domain","propertyValue":"acme.example","occurredAt":2},
            {"eventId":3,"subscriptionType":"contact.associationChange","fromObjectId":51,"toObjectId":981,"associationType":"CONTACT_TO_COMPANY","associationRemoved":false,"occurredAt":3},
            {"eventId":4,"subscriptionType":"contact.merge","objectId":52,"primaryObjectId":52,"mergedObjectIds":[53],"occurredAt":4},
            {"eventId":5,"subscriptionType":"object.creation","objectTypeId":"0-3","objectId":7001,"occurredAt":5},
            {"eventId":6,"subscriptionType":"object.deletion","objectTypeId":"2-1234","objectId":9,"occurredAt":6},
            {"eventId":7,"subscriptionType":"object.associationChange","fromObjectTypeId":"0-2","fromObjectId":982,"toObjectTypeId":"0-1","toObjectId":51,"associationRemoved":true,"occurredAt":7}
        ]"#;
        let named = hubspot(body).unwrap();
        assert_eq!(ids(&named, "company"), ["981", "982"]);
        assert_eq!(ids(&named, "contact"), ["51", "52", "53"]);
        assert_eq!(ids(&named, "deal"), ["7001"]);
        assert_eq!(ids(&named, "2-1234"), ["9"]);
    }

    #[cfg(feature = "hubspot")]
    #[test]
    fn a_hubspot_body_that_is_not_an_array_of_events_is_malformed() {
        for body in [
            &br#"{"subscriptionType":"company.creation","objectId":1}"#[..],
            br#"[{"objectId":1}]"#,
            br#"[{"subscriptionType":"company.creation","objectId":"1"}]"#,
            b"[",
        ] {
            assert!(hubspot(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
        // A generic event naming no object type cannot be routed: skipped,
        // so the rest of its batch is not refused with it.
        let named =
            hubspot(br#"[{"subscriptionType":"object.creation","objectId":1},{"subscriptionType":"company.creation","objectId":2}]"#)
                .unwrap();
        assert_eq!(named.len(), 1);
        assert_eq!(ids(&named, "company"), ["2"]);
    }

    #[test]
    fn odoo_notifications_name_their_model_and_id() {
        let body = br#"{"_action":"Push partners(#12)","_id":42,"_model":"res.partner","id":42,"name":"Acme"}"#;
        assert_eq!(ids(&odoo(body).unwrap(), "res.partner"), ["42"]);
        for bad in [
            &br#"{"_id":42}"#[..],
            br#"{"_model":"res.partner","_id":"42"}"#,
            br#"{"_model":"res.partner","_id":0}"#,
            br#"[{"_model":"res.partner","_id":1}]"#,
        ] {
            assert!(odoo(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn generic_events_take_text_and_number_ids_once() {
        let named = generic(br#"{"entity":"client","ids":["A-1", 7, "A-1"]}"#).unwrap();
        assert_eq!(ids(&named, "client"), ["A-1", "7"]);
        for bad in [
            &br#"{"entity":"client"}"#[..],
            br#"{"entity":"","ids":[1]}"#,
            br#"{"entity":"client","ids":[" "]}"#,
            br#"{"entity":"client","ids":[-1]}"#,
            br#"{"entity":"client","ids":[1],"extra":true}"#,
        ] {
            assert!(generic(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
