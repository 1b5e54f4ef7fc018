//! The web client's routes: sessions (`/web/session/authenticate`,
//! `/web/session/get_session_info`, `/web/session/destroy`) and model calls
//! with the session cookie (`/web/dataset/call_kw[/<path>]`), answered as
//! Odoo 19 answers them.
//!
//! - `authenticate` takes `db`, `login` and the password (not an API key:
//!   the login is interactive) and answers the session info, with the
//!   `session_id` cookie (twice, as Odoo sends it). A wrong password is
//!   `AccessDenied`, an unknown database `AccessError` "Database not
//!   found.".
//! - The routes for a logged-in user answer a missing, unknown or
//!   destroyed session with error code 100 "Odoo Session Expired"
//!   (`odoo.http.SessionExpiredException`) and `id: null`: Odoo checks the
//!   session before it reads the request.
//! - `call_kw` takes `model`, `method`, `args` and `kwargs` and calls as
//!   `execute_kw` does, as the session's user; the path after `call_kw/`
//!   is ignored. An unknown model is a `KeyError`.
//! - Session ids are random and kept only in memory; they are never
//!   logged or shown by `Debug`.

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::store::Raise;
use super::{
    Before, DATABASE, InFlight, Shared, USERS, User, before, call_model, dropped, jsonrpc_envelope,
    jsonrpc_error, jsonrpc_reply, require,
};

/// The logged-in sessions, by session id.
#[derive(Default)]
pub(super) struct Sessions {
    by_id: Mutex<BTreeMap<String, i64>>,
    counter: AtomicU64,
    /// Failed interactive logins in a row, and when the last one was: Odoo
    /// refuses logins from an address for `COOLDOWN` after
    /// `FAILURES_BEFORE_COOLDOWN` failures (`base.login_cooldown_after`,
    /// `base.login_cooldown_duration`). Every client of a test server has
    /// the same address, so the count is the server's.
    failures: Mutex<(u32, Option<std::time::Instant>)>,
}

/// `base.login_cooldown_after`.
const FAILURES_BEFORE_COOLDOWN: u32 = 10;
/// `base.login_cooldown_duration`.
const COOLDOWN: std::time::Duration = std::time::Duration::from_secs(60);

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.by_id.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("Sessions").field("open", &n).finish()
    }
}

impl Sessions {
    /// Whether logins are refused for now after too many failures.
    fn on_cooldown(&self) -> bool {
        let Ok(mut f) = self.failures.lock() else {
            return false;
        };
        match *f {
            (n, Some(last)) if n >= FAILURES_BEFORE_COOLDOWN => {
                if last.elapsed() < COOLDOWN {
                    true
                } else {
                    *f = (0, None);
                    false
                }
            }
            _ => false,
        }
    }

    /// Counts a failed login, or forgets the failures after a success.
    fn login_result(&self, ok: bool) {
        if let Ok(mut f) = self.failures.lock() {
            *f = if ok {
                (0, None)
            } else {
                (f.0 + 1, Some(std::time::Instant::now()))
            };
        }
    }

    /// A new random session id (40 hex digits).
    fn new_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let mut out = String::with_capacity(48);
        for part in 0..3u8 {
            let mut h = RandomState::new().build_hasher();
            h.write_u64(n);
            h.write_u128(nanos);
            h.write_u8(part);
            out.push_str(&format!("{:016x}", h.finish()));
        }
        out.truncate(40);
        out
    }

    fn open(&self, uid: i64) -> String {
        let sid = self.new_id();
        if let Ok(mut m) = self.by_id.lock() {
            m.insert(sid.clone(), uid);
        }
        sid
    }

    fn user(&self, sid: &str) -> Option<i64> {
        self.by_id.lock().ok()?.get(sid).copied()
    }

    fn close(&self, sid: &str) {
        if let Ok(mut m) = self.by_id.lock() {
            m.remove(sid);
        }
    }
}

/// The `session_id` cookie of the request.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("session_id="))
}

/// The uid of the request's session, if it has a live one.
pub(super) fn session_user(shared: &Shared, headers: &HeaderMap) -> Option<i64> {
    shared.sessions.user(session_cookie(headers)?)
}

/// Odoo's 403 for a session cookie of one database and an
/// `X-Odoo-Database` header naming another.
pub(super) fn database_conflict(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let db = headers.get("x-odoo-database")?;
    session_user(shared, headers)?;
    if db.to_str().is_ok_and(|d| d == DATABASE) {
        return None;
    }
    Some(
        (
            axum::http::StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html>\n<html lang=en>\n<title>403 Forbidden</title>\n<h1>Forbidden</h1>\n\
             <p>Cannot use both the session_id cookie and the x-odoo-database header.</p>\n",
        )
            .into_response(),
    )
}

/// `Set-Cookie` for a session id: a week of inactivity, as Odoo sets it.
fn cookie(sid: &str) -> Option<HeaderValue> {
    let expires = (chrono::Utc::now() + chrono::Duration::days(365))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    HeaderValue::from_str(&format!(
        "session_id={sid}; Expires={expires}; Max-Age=604800; HttpOnly; Path=/"
    ))
    .ok()
}

/// A new anonymous session's cookie on a response to a request that had
/// none, as Odoo gives one to any visitor.
pub(super) fn with_new_session(headers: &HeaderMap, mut response: Response) -> Response {
    if session_cookie(headers).is_none() {
        let sid = Sessions::default().new_id();
        if let Some(c) = cookie(&sid) {
            response.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    response
}

fn expired() -> Raise {
    Raise::new("odoo.http.SessionExpiredException", "Session expired")
}

/// The session's user, or Odoo's "Session Expired" answer (with `id:
/// null`: the request is not read yet).
fn logged_in(shared: &Shared, headers: &HeaderMap) -> Result<&'static User, Box<Response>> {
    session_user(shared, headers)
        .and_then(|uid| USERS.iter().find(|u| u.uid == uid))
        .ok_or_else(|| Box::new(jsonrpc_error(&Value::Null, &expired())))
}

/// What `ir.http.session_info()` answers for a user.
fn session_info(shared: &Shared, user: &User, headers: &HeaderMap) -> Value {
    let v = shared.version;
    let store = shared.store();
    let row = store.tables.get("res.users").and_then(|t| t.get(&user.uid));
    let name = row
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if user.admin {
                "Mitchell Admin".to_owned()
            } else {
                "Marc Demo".to_owned()
            }
        });
    let partner_id = row
        .and_then(|r| r.get("partner_id"))
        .and_then(|p| p.as_i64().or_else(|| p.as_array()?.first()?.as_i64()));
    let partner_name = partner_id
        .map(|p| store.display_name("res.partner", p))
        .unwrap_or_else(|| name.clone());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8069");
    let company = json!({
        "id": 1, "name": "YourCompany", "sequence": 0, "child_ids": [], "parent_id": false,
        "currency_id": 1, "timesheet_uom_id": 4, "timesheet_uom_factor": 1.0
    });
    let settings = json!({
        "id": 1, "embedded_actions_config_ids": {},
        "is_discuss_sidebar_category_channel_open": true,
        "is_discuss_sidebar_category_chat_open": true, "push_to_talk_key": false,
        "use_push_to_talk": false, "voice_active_duration": 200,
        "channel_notifications": false, "user_id": {"id": user.uid}, "volumes": [["ADD", []]]
    });
    let view = |name: &str, icon: &str, multi: bool| json!({"display_name": name, "icon": icon, "multi_record": multi});
    let view_info = json!({
        "list": view("List", "oi oi-view-list", true),
        "form": view("Form", "fa fa-address-card", false),
        "graph": view("Graph", "fa fa-area-chart", true),
        "pivot": view("Pivot", "oi oi-view-pivot", true),
        "calendar": view("Calendar", "fa fa-calendar", true),
        "kanban": view("Kanban", "oi oi-view-kanban", true),
        "search": view("Search", "oi oi-search", true),
        "hierarchy": view("Hierarchy", "fa fa-share-alt fa-rotate-90", true),
        "activity": view("Activity", "fa fa-clock-o", true)
    });
    let partner = partner_id.map_or(Value::Bool(false), |p| json!(p));
    let mut info = json!({
        "uid": user.uid,
        "is_system": user.admin,
        "is_admin": user.admin,
        "is_public": false,
        "is_internal_user": true,
        "user_context": {"lang": "en_US", "tz": "Europe/Brussels", "uid": user.uid},
        "db": DATABASE,
        "registry_hash": "0000000000000000000000000000000000000000000000000000000000000000",
        "user_settings": settings.clone(),
        "server_version": v.to_string(),
        "server_version_info": [v.major(), 0, 0, "final", 0, ""],
        "support_url": "https://www.odoo.com/buy",
        "name": name,
        "username": user.login,
        "quick_login": true,
        "partner_write_date": "2026-11-23 08:05:31",
        "partner_display_name": partner_name,
        "partner_id": partner.clone(),
        "web.base.url": format!("http://{host}"),
        "active_ids_limit": 20000,
        "profile_session": null,
        "profile_collectors": null,
        "profile_params": null,
        "max_file_upload_size": 134_217_728,
        "home_action_id": false
    });
    let more = json!({
        "currencies": {"1": {"name": "USD", "symbol": "$", "position": "before", "digits": [69, 2]}},
        "bundle_params": {"lang": "en_US"},
        "test_mode": false,
        "view_info": view_info,
        "groups": {"base.group_allow_export": true},
        "user_companies": {
            "current_company": 1,
            "allowed_companies": {"1": company},
            "disallowed_ancestor_companies": {}
        },
        "show_effect": true,
        "websocket_worker_version": format!("{v}-2"),
        "tour_enabled": false,
        "current_tour": null,
        "storeData": store_data(user, &partner, &name, settings),
        "iap_company_enrich": true,
        "can_insert_in_spreadsheet": false,
        "uom_ids": {"4": {"id": 4, "name": "Hours", "rounding": 0.01, "timesheet_widget": "float_time"}}
    });
    if let (Some(info), Value::Object(more)) = (info.as_object_mut(), more) {
        info.extend(more);
    }
    info
}

/// The Discuss data the web client starts with (`storeData`).
fn store_data(user: &User, partner: &Value, name: &str, settings: Value) -> Value {
    json!({
        "Store": {
            "action_discuss_id": 124,
            "channel_types_with_seen_infos": ["chat", "group"],
            "hasCannedResponses": true,
            "hasGifPickerFeature": false,
            "hasLinkPreviewFeature": true,
            "hasMessageTranslationFeature": false,
            "internalUserGroupId": 1,
            "mt_comment": 1,
            "mt_note": 2,
            "odoobot": 2,
            "self_partner": partner,
            "settings": settings
        },
        "res.partner": [
            {"active": false, "email": "odoobot@example.com", "id": 2, "im_status": "bot",
             "is_company": false, "main_user_id": 1, "name": "OdooBot",
             "write_date": "2026-11-23 08:05:31"},
            {"active": true, "id": partner, "im_status": "offline", "main_user_id": user.uid,
             "name": name, "write_date": "2026-11-23 08:05:31"}
        ],
        "res.users": [
            {"id": 1, "share": false},
            {"id": user.uid, "is_admin": user.admin, "notification_type": "email",
             "share": false, "signature": ["markup", format!("<div>{name}</div>")]}
        ]
    })
}

/// `POST /web/session/authenticate`.
pub(super) async fn authenticate(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (id, params) = match jsonrpc_envelope(&headers, &body, "/web/session/authenticate") {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    let _guard = InFlight::enter(&shared);
    let render = |r: &Raise| jsonrpc_error(&id, r);
    let drop_after = match before(&shared, "web", "", "authenticate", render).await {
        Before::Answer(r) => return r,
        Before::Drop => true,
        Before::Proceed => false,
    };
    if let Err(e) = require(
        "Session.authenticate",
        &params,
        &["db", "login", "password"],
    ) {
        return jsonrpc_error(&id, &e);
    }
    if params["db"].as_str() != Some(DATABASE) {
        return jsonrpc_error(
            &id,
            &Raise::new("odoo.exceptions.AccessError", "Database not found."),
        );
    }
    if shared.sessions.on_cooldown() {
        return jsonrpc_error(
            &id,
            &Raise::new(
                "odoo.exceptions.AccessDenied",
                "Too many login failures, please wait a bit before trying again.",
            ),
        );
    }
    let (login, password) = (params["login"].as_str(), params["password"].as_str());
    // An interactive login: the password, not an API key.
    let Some(user) = USERS
        .iter()
        .find(|u| Some(u.login) == login && Some(u.password) == password)
    else {
        shared.sessions.login_result(false);
        return jsonrpc_error(
            &id,
            &Raise::new("odoo.exceptions.AccessDenied", "Access Denied"),
        );
    };
    shared.sessions.login_result(true);
    // A login starts a new session.
    if let Some(old) = session_cookie(&headers) {
        shared.sessions.close(old);
    }
    let sid = shared.sessions.open(user.uid);
    if drop_after {
        return dropped();
    }
    let mut response = jsonrpc_reply(&id, Ok(session_info(&shared, user, &headers)));
    if let Some(c) = cookie(&sid) {
        response.headers_mut().append(header::SET_COOKIE, c.clone());
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// `POST /web/session/get_session_info` (logged in).
pub(super) async fn get_session_info(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !super::is_json(&headers) {
        return super::unsupported_media_type("/web/session/get_session_info");
    }
    let user = match logged_in(&shared, &headers) {
        Ok(user) => user,
        Err(answer) => return *answer,
    };
    let (id, _) = match jsonrpc_envelope(&headers, &body, "/web/session/get_session_info") {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    let mut response = jsonrpc_reply(&id, Ok(session_info(&shared, user, &headers)));
    if let Some(c) = session_cookie(&headers).and_then(cookie) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// `POST /web/session/destroy` (logged in): the session ends; the answer
/// has no `result`.
pub(super) async fn destroy(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !super::is_json(&headers) {
        return super::unsupported_media_type("/web/session/destroy");
    }
    if let Err(answer) = logged_in(&shared, &headers) {
        return *answer;
    }
    let (id, _) = match jsonrpc_envelope(&headers, &body, "/web/session/destroy") {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    if let Some(sid) = session_cookie(&headers) {
        shared.sessions.close(sid);
    }
    let mut response = jsonrpc_reply(&id, Ok(Value::Null));
    let expires = (chrono::Utc::now() + chrono::Duration::days(365))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(c) = HeaderValue::from_str(&format!("cids=; Expires={expires}; Max-Age=0; Path=/")) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    // The logged-out visitor gets a new, anonymous session.
    if let Some(c) = cookie(&shared.sessions.new_id()) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// `POST /web/dataset/call_kw` and `/web/dataset/call_kw/<path>` (logged
/// in): `DataSet.call_kw(model, method, args, kwargs)`.
pub(super) async fn call_kw(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !super::is_json(&headers) {
        return super::unsupported_media_type("/web/dataset/call_kw");
    }
    let user = match logged_in(&shared, &headers) {
        Ok(user) => user,
        Err(answer) => return *answer,
    };
    let (id, params) = match jsonrpc_envelope(&headers, &body, "/web/dataset/call_kw") {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    let _guard = InFlight::enter(&shared);
    if let Err(e) = require(
        "DataSet.call_kw",
        &params,
        &["model", "method", "args", "kwargs"],
    ) {
        return jsonrpc_error(&id, &e);
    }
    let model = super::text_of(&params["model"]);
    let method = super::text_of(&params["method"]);
    let render = |r: &Raise| jsonrpc_error(&id, r);
    let drop_after = match before(&shared, "web", &model, &method, render).await {
        Before::Answer(r) => return r,
        Before::Drop => true,
        Before::Proceed => false,
    };
    let result = (|| {
        // `request.env[model]`
        if !shared.store().models.contains_key(&model) {
            return Err(Raise::new("builtins.KeyError", model.clone()));
        }
        let positional = match &params["args"] {
            Value::Array(a) => a.clone(),
            other => super::python_items(other)?,
        };
        let kwargs: Map<String, Value> = match &params["kwargs"] {
            Value::Object(o) => o.clone(),
            Value::Null => Map::new(),
            other => {
                return Err(Raise::new(
                    "builtins.TypeError",
                    format!("'{}' object is not a mapping", super::py_type(other)),
                ));
            }
        };
        call_model(&shared, user, &model, &method, &positional, &kwargs)
    })();
    if drop_after {
        return dropped();
    }
    jsonrpc_reply(&id, result)
}
