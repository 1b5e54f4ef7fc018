//! Decoding of recorded reply bodies, without a client.
//!
//! The functions here run the exact decode path the client uses on a reply
//! body that arrived with HTTP 200: useful to replay responses you recorded
//! (in your own tests or caches) into your own types, and to benchmark the
//! decoding. [`xmlrpc_response`] encodes a value as an XML-RPC reply body,
//! for mock servers in tests.

use serde::de::DeserializeOwned;
use serde_json::Value;

#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::protocol;
use crate::xmlrpc::{self, MethodResponse, XmlRpcValue};

/// Decodes a JSON-RPC reply body (`{"jsonrpc": "2.0", "id": .., "result": ..}`)
/// into `T`, or the error it carries.
///
/// # Errors
///
/// An error carrying the server's exception ([`Error::server_error`]) for
/// an `error` member, [`ErrorKind::Protocol`] for a body that is not a
/// JSON-RPC reply, [`ErrorKind::Decode`] when the result does not fit `T`.
///
/// # Example
///
/// ```
/// let ids: Vec<i64> = odoo_integration_client::codec::decode_jsonrpc(
///     br#"{"jsonrpc": "2.0", "id": 7, "result": [3, 1, 2]}"#,
/// )?;
/// assert_eq!(ids, [3, 1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_jsonrpc<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    protocol::decode_jsonrpc_body(body)
}

/// Decodes a JSON-2 success body (the bare result) into `T`.
///
/// # Errors
///
/// [`ErrorKind::Protocol`] for a body that is not JSON, [`ErrorKind::Decode`]
/// when it does not fit `T`.
///
/// # Example
///
/// ```
/// let n: u64 = odoo_integration_client::codec::decode_json2(b"42")?;
/// assert_eq!(n, 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_json2<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    protocol::decode_json2_body(body)
}

/// Decodes an XML-RPC `methodResponse` body into `T`, or the fault it
/// carries.
///
/// # Errors
///
/// An error carrying the fault ([`Error::server_error`]),
/// [`ErrorKind::Protocol`] for a body that is not an XML-RPC reply,
/// [`ErrorKind::Decode`] when the value does not fit `T`.
///
/// # Example
///
/// ```
/// let body = b"<?xml version='1.0'?><methodResponse><params><param>\
///     <value><int>7</int></value></param></params></methodResponse>";
/// let n: i64 = odoo_integration_client::codec::decode_xmlrpc(body)?;
/// assert_eq!(n, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_xmlrpc<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    protocol::decode_xmlrpc_body(body)
}

/// Encodes `value` as an XML-RPC `methodResponse` body, the way Odoo would
/// send it (integers as `<int>`, other numbers as `<double>`, `null` as
/// `<nil/>`).
///
/// # Errors
///
/// [`ErrorKind::Configuration`] for a string with a character XML 1.0 cannot
/// carry.
///
/// # Example
///
/// ```
/// let body = odoo_integration_client::codec::xmlrpc_response(&serde_json::json!([1, "two"]))?;
/// let back: serde_json::Value = odoo_integration_client::codec::decode_xmlrpc(&body)?;
/// assert_eq!(back, serde_json::json!([1, "two"]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn xmlrpc_response(value: &Value) -> Result<Vec<u8>> {
    xmlrpc::encode_response(&MethodResponse::Success(XmlRpcValue::from_json(value)))
        .map_err(|e| Error::config(format!("cannot encode the value: {e}")))
}
