//! Pay schedules: how often the company pays, and when its periods end.

use super::GustoConnector;
use crate::error::Result;
use chrono::NaiveDate;
use reqwest::Method;
use serde::{Deserialize, Serialize};

/// A pay schedule of the company (`GET /v1/companies/{id}/pay_schedules`).
/// No canonical entity holds it: it tells a sync how to cut hours into pay
/// periods before the payrolls of those periods exist.
///
/// # Example
///
/// ```
/// let s: odoo_integration_connectors::gusto::PaySchedule = serde_json::from_value(serde_json::json!({
///     "uuid": "f0c4", "frequency": "Every other week",
///     "anchor_pay_date": "2026-11-20", "anchor_end_of_pay_period": "2026-11-15",
/// }))?;
/// assert_eq!(s.frequency, "Every other week");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaySchedule {
    /// Gusto's id.
    pub uuid: String,
    /// `Every week`, `Every other week`, `Twice per month`, `Monthly`, …
    pub frequency: String,
    /// A pay date the schedule is anchored on.
    #[serde(default)]
    pub anchor_pay_date: Option<NaiveDate>,
    /// The last day of the pay period paid on the anchor date.
    #[serde(default)]
    pub anchor_end_of_pay_period: Option<NaiveDate>,
    /// The schedule's name, when it has one.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it is in use (absent: in use).
    #[serde(default)]
    pub active: Option<bool>,
}

impl GustoConnector {
    /// The company's pay schedules, every page.
    ///
    /// # Errors
    ///
    /// A typed error from Gusto or the transport.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = std::sync::Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store)
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// g.add_pay_schedule(serde_json::json!({"frequency": "Twice per month", "anchor_pay_date": "2026-11-30"}));
    /// let schedules = gusto.pay_schedules().await?;
    /// assert_eq!(schedules.len(), 1);
    /// assert_eq!(schedules[0].frequency, "Twice per month");
    /// assert_eq!(schedules[0].anchor_pay_date, chrono::NaiveDate::from_ymd_opt(2026, 11, 30));
    /// # Ok(()) }
    /// ```
    pub async fn pay_schedules(&self) -> Result<Vec<PaySchedule>> {
        const PER: usize = 100;
        let mut out = Vec::new();
        for page in 1.. {
            let path = self.company_path(&format!("/pay_schedules?page={page}&per={PER}"));
            let (_, batch): (_, Vec<PaySchedule>) =
                self.call_json(Method::GET, &path, None).await?;
            let last = batch.len() < PER;
            out.extend(batch);
            if last {
                break;
            }
        }
        Ok(out)
    }
}
