//! The [`SalesforceBuilder`] settings of what is mapped: the Account and
//! Contact maps, currencies, stages, the project field, line items.

use super::builder::SalesforceBuilder;
use crate::mapping::FieldMap;
use odoo_integration_model::Currency;

impl SalesforceBuilder {
    /// Replaces the Account ⇄ client map. Default: [`account_fields`](super::account_fields).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// let mut map = account_fields();
    /// map.push(FieldMap::text("tax_id", "VAT_Number__c")); // a custom field: one map entry
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .account_map(map)
    ///     .build()?;
    /// let acme = odoo_integration_model::ClientCompany {
    ///     legal_name: "Acme NV".into(),
    ///     tax_id: Some("BE0123456789".into()),
    ///     ..Default::default()
    /// };
    /// let id = sf.upsert_one(&upsert("42", acme)).await?.remote_id().unwrap().to_string();
    /// assert_eq!(org.record("Account", &id).unwrap()["VAT_Number__c"], "BE0123456789");
    /// # Ok(()) }
    /// ```
    pub fn account_map(mut self, map: Vec<FieldMap>) -> Self {
        self.settings.accounts = map;
        self
    }

    /// Replaces the Contact field map (besides the name and the account).
    /// Default: [`contact_fields`](super::contact_fields).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Source};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// org.insert("Contact", serde_json::json!({"LastName": "Lee", "Email": "ann@acme.example", "Phone": "+32 9 123"}));
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .contact_map(vec![FieldMap::text("email", "Email")])
    ///     .build()?;
    /// let page = Source::<odoo_integration_model::Contact>::read(&sf, None, 100).await?;
    /// let Operation::Upsert(ann) = &page.changes[0].operation else { panic!("a delete") };
    /// assert_eq!(ann.email.as_deref(), Some("ann@acme.example"));
    /// assert_eq!(ann.phone, None); // no longer mapped
    /// # Ok(()) }
    /// ```
    pub fn contact_map(mut self, map: Vec<FieldMap>) -> Self {
        self.settings.contacts = map;
        self
    }

    /// Maps another canonical entity (an engagement, an employee) to a
    /// standard or custom sObject; the connector then reads and writes it
    /// like the built-in ones (incremental reads, deletes, upserts by the
    /// sync field, which the sObject needs too). A second map of the same
    /// entity replaces the first. The built-in entities (client, contact,
    /// opportunity) keep their maps: [`build`](Self::build) refuses an
    /// object map for them.
    ///
    /// # Example
    ///
    /// See [`ObjectMap`](super::ObjectMap).
    pub fn object_map(mut self, map: super::ObjectMap) -> Self {
        self.settings.objects.insert(map.entity.clone(), map);
        self
    }

    /// The org's currency, for amounts of an org without multi-currency.
    /// Default: USD.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Source};
    /// use odoo_integration_model::{Currency, Opportunity};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// org.insert("Opportunity", serde_json::json!({
    ///     "Name": "Rollout", "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 1250,
    /// }));
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .org_currency(Currency::EUR)
    ///     .build()?;
    /// let page = Source::<Opportunity>::read(&sf, None, 100).await?;
    /// let Operation::Upsert(deal) = &page.changes[0].operation else { panic!("a delete") };
    /// let amount = deal.amount.unwrap();
    /// assert_eq!(amount.amount(), rust_decimal::Decimal::from(1250));
    /// assert_eq!(amount.currency(), Currency::EUR);
    /// # Ok(()) }
    /// ```
    pub fn org_currency(mut self, currency: Currency) -> Self {
        self.settings.currency = currency;
        self
    }

    /// The org has multi-currency on: amounts carry `CurrencyIsoCode`.
    /// Default: off.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Source};
    /// use odoo_integration_model::{Currency, Opportunity};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// org.insert("Opportunity", serde_json::json!({
    ///     "Name": "Rollout", "StageName": "Prospecting", "CloseDate": "2026-12-31",
    ///     "Amount": 900, "CurrencyIsoCode": "GBP",
    /// }));
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .multi_currency()
    ///     .build()?;
    /// let page = Source::<Opportunity>::read(&sf, None, 100).await?;
    /// let Operation::Upsert(deal) = &page.changes[0].operation else { panic!("a delete") };
    /// assert_eq!(deal.amount.unwrap().currency(), Currency::GBP);
    /// # Ok(()) }
    /// ```
    pub fn multi_currency(mut self) -> Self {
        self.settings.multi_currency = true;
        self
    }

    /// The `StageName`s written for an open, a won and a lost opportunity.
    /// Default: `Prospecting`, `Closed Won`, `Closed Lost`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .stage_names("Qualification", "Closed Won", "Closed Lost")
    ///     .build()?;
    /// let deal = odoo_integration_model::Opportunity {
    ///     name: "Rollout".into(),
    ///     close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
    ///     ..Default::default() // an open stage
    /// };
    /// let id = sf.upsert_one(&upsert("9", deal)).await?.remote_id().unwrap().to_string();
    /// assert_eq!(org.record("Opportunity", &id).unwrap()["StageName"], "Qualification");
    /// # Ok(()) }
    /// ```
    pub fn stage_names(
        mut self,
        open: impl Into<String>,
        won: impl Into<String>,
        lost: impl Into<String>,
    ) -> Self {
        self.settings.stage_open = open.into();
        self.settings.stage_won = won.into();
        self.settings.stage_lost = lost.into();
        self
    }

    /// The Opportunity field holding `project_ref` (the ERP project).
    /// Default: none (not mapped).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .project_field("Odoo_Project__c")
    ///     .build()?;
    /// let deal = odoo_integration_model::Opportunity {
    ///     name: "Rollout".into(),
    ///     close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
    ///     project_ref: Some("17".into()),
    ///     ..Default::default()
    /// };
    /// let id = sf.upsert_one(&upsert("9", deal)).await?.remote_id().unwrap().to_string();
    /// assert_eq!(org.record("Opportunity", &id).unwrap()["Odoo_Project__c"], "17");
    /// # Ok(()) }
    /// ```
    pub fn project_field(mut self, field: impl Into<String>) -> Self {
        self.settings.project_field = Some(field.into());
        self
    }

    /// More Opportunity fields, beside the built-in ones (name, stage,
    /// amount, close date, account, lines): your custom fields, one map
    /// entry each. The payment status the ERP writes back
    /// ([`workflows::payments`](crate::workflows::payments)) is two of them:
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, Currency, Money, PaymentState, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .opportunity_fields(vec![
    ///         FieldMap::text("payment_state", "Payment_State__c"),
    ///         FieldMap::new("amount_due", "Amount_Due__c", Conversion::money()),
    ///     ])
    ///     .build()?;
    /// let deal = odoo_integration_model::Opportunity {
    ///     name: "Rollout".into(),
    ///     close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
    ///     payment_state: Some(PaymentState::Partial),
    ///     amount_due: Some(Money::new(1200.into(), Currency::USD)),
    ///     ..Default::default()
    /// };
    /// let id = sf.upsert_one(&upsert("9", deal)).await?.remote_id().unwrap().to_string();
    /// let stored = org.record("Opportunity", &id).unwrap();
    /// assert_eq!((stored["Payment_State__c"].as_str(), stored["Amount_Due__c"].as_f64()), (Some("partial"), Some(1200.0)));
    /// # Ok(()) }
    /// ```
    pub fn opportunity_fields(mut self, map: Vec<FieldMap>) -> Self {
        self.settings.opportunities = map;
        self
    }

    /// Writes opportunity line items: each canonical line becomes an
    /// `OpportunityLineItem` of the price book entry `entry_id`
    /// (`PricebookEntryId`, `01u…`), with its `Quantity`, `UnitPrice`
    /// (exact, in the opportunity's currency) and `Description`. Take the
    /// entry of a generic service product (say "Services") in the org's
    /// standard price book, active, in the org's currency. A line that
    /// names its product by code (`ContractLine::product`) goes on that
    /// product's active entry in the same price book instead; a code with
    /// no such entry fails its opportunity, naming the code.
    ///
    /// The opportunity must use that entry's price book (`Pricebook2Id`):
    /// Salesforce sets it on an opportunity that has none when its first
    /// line is created, and refuses the lines of an opportunity already
    /// on another price book (the record fails with that error). In a
    /// multi-currency org the entry's currency must be the opportunity's.
    ///
    /// When the policy lets `lines` through, a written opportunity's lines
    /// are **replaced as a whole**: its current line items are deleted and
    /// the lines created again, so a replayed batch never leaves two sets.
    /// Default: none: `lines` is not written (only read).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Sink, SinkRecord};
    /// use odoo_integration_model::{CanonicalId, ContractLine, Currency, Money, Opportunity, RemoteId, SystemId};
    /// use rust_decimal::Decimal;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .line_pricebook_entry("01u5g00000AbCdEAAV")
    ///     .build()?;
    /// let line = ContractLine {
    ///     description: "Implementation".into(),
    ///     quantity: Decimal::from(3),
    ///     unit_price: Some(Money::new(Decimal::new(12_000, 2), Currency::USD)),
    ///     ..Default::default()
    /// };
    /// let deal = Opportunity {
    ///     name: "Rollout".into(),
    ///     close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
    ///     lines: vec![line],
    ///     ..Default::default()
    /// };
    /// let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("9"), Operation::Upsert(deal));
    /// let outcomes = sf.apply(vec![record]).await?;
    /// assert!(outcomes[0].is_success());
    /// let items = org.records("OpportunityLineItem");
    /// assert_eq!(items.len(), 1);
    /// assert_eq!(items[0]["PricebookEntryId"], "01u5g00000AbCdEAAV");
    /// assert_eq!(items[0]["Description"], "Implementation");
    /// # Ok(()) }
    /// ```
    pub fn line_pricebook_entry(mut self, entry_id: impl Into<String>) -> Self {
        self.settings.line_entry = Some(entry_id.into());
        self
    }
}
