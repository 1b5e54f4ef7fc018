//! `vendor-fakes`: the four vendor fakes on loopback, with demo data,
//! until killed, so a connector or any tool can be pointed at them by hand.
//!
//! ```text
//! vendor-fakes [--hubspot-port N] [--salesforce-port N] [--bamboohr-port N] [--gusto-port N]
//! ```
//!
//! Each port also reads `VENDOR_FAKES_<VENDOR>_PORT`; the flag wins; 0 or
//! unset picks a free port. Once all four answer, exactly one line goes to
//! stdout, a JSON object with where each fake is and the (fake)
//! credentials it accepts:
//!
//! ```text
//! {"hubspot":{"url":"http://127.0.0.1:8101","token":"…"},
//!  "salesforce":{"login_url":"…","my_domain_url":"…","client_id":"…","client_secret":"…"},
//!  "bamboohr":{"url":"…","company":"…","api_key":"…"},
//!  "gusto":{"url":"…","client_id":"…","client_secret":"…","access_token":"…","refresh_token":"…","company_uuid":"…"}}
//! ```
//!
//! (shown wrapped; it is one line). Salesforce's `my_domain_url` is the
//! org's My Domain, where the client-credentials flow signs in; its
//! `login_url` is the generic login host, which refuses that grant, as
//! Salesforce's does, and serves the JWT bearer flow.
//!
//! The demo data tell one story in every system: the client Northwind
//! Traders with two contacts and a won deal in both CRMs, and the same two
//! consultants in the HRIS and in payroll (with a pay schedule).

use odoo_integration_fakes::bamboohr::FakeBambooHr;
use odoo_integration_fakes::gusto::FakeGusto;
use odoo_integration_fakes::hubspot::FakeHubSpot;
use odoo_integration_fakes::salesforce::FakeSalesforce;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

const VENDORS: [&str; 4] = ["hubspot", "salesforce", "bamboohr", "gusto"];
const USAGE: &str = "usage: vendor-fakes [--hubspot-port N] [--salesforce-port N] \
                     [--bamboohr-port N] [--gusto-port N]\n\
                     (or VENDOR_FAKES_HUBSPOT_PORT=N …; 0 or unset: a free port)";
/// The client the Salesforce and Gusto fakes accept.
const CLIENT_ID: &str = "vendor-fakes";
const CLIENT_SECRET: &str = "vendor-fakes-secret";

fn main() -> ExitCode {
    let ports = match ports(std::env::args().skip(1), |name| std::env::var(name).ok()) {
        Ok(ports) => ports,
        Err(message) => {
            eprintln!("vendor-fakes: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("vendor-fakes: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(ports)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vendor-fakes: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The port of each vendor, in [`VENDORS`] order, from the flags, else the
/// environment, else 0.
fn ports(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<[u16; 4], String> {
    let parse = |what: &str, text: &str| {
        text.parse::<u16>()
            .map_err(|_| format!("{what}: `{text}` is not a port (0 to 65535)"))
    };
    let mut ports = [0; 4];
    for (port, vendor) in ports.iter_mut().zip(VENDORS) {
        let name = format!("VENDOR_FAKES_{}_PORT", vendor.to_uppercase());
        if let Some(text) = env(&name).filter(|t| !t.is_empty()) {
            *port = parse(&name, &text)?;
        }
    }
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let vendor = flag
            .strip_prefix("--")
            .and_then(|f| f.strip_suffix("-port"))
            .and_then(|v| VENDORS.iter().position(|known| *known == v))
            .ok_or_else(|| format!("unknown argument `{flag}`"))?;
        let value = args.next().ok_or_else(|| format!("{flag} needs a port"))?;
        ports[vendor] = parse(&flag, &value)?;
    }
    Ok(ports)
}

/// Starts the four fakes, prints where they are, and serves until killed.
async fn serve(ports: [u16; 4]) -> std::io::Result<()> {
    let at = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let [hubspot, salesforce, bamboohr, gusto] = ports;
    let named = |vendor: &str, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("cannot start the {vendor} fake: {e}"))
    };
    let hubspot = FakeHubSpot::builder()
        .start_on(at(hubspot))
        .await
        .map_err(|e| named("hubspot", e))?;
    let salesforce = FakeSalesforce::start_on(at(salesforce))
        .await
        .map_err(|e| named("salesforce", e))?;
    salesforce.allow_client(CLIENT_ID, CLIENT_SECRET);
    let bamboohr = FakeBambooHr::builder()
        .start_on(at(bamboohr))
        .await
        .map_err(|e| named("bamboohr", e))?;
    let gusto = FakeGusto::start_on(at(gusto))
        .await
        .map_err(|e| named("gusto", e))?;
    gusto.allow_client(CLIENT_ID, CLIENT_SECRET);
    let tokens = gusto.grant();
    demo_data(&hubspot, &salesforce, &bamboohr, &gusto);

    let line = serde_json::json!({
        "hubspot": {"url": hubspot.url(), "token": hubspot.token()},
        "salesforce": {
            "login_url": salesforce.login_url(),
            "my_domain_url": salesforce.url(),
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        "bamboohr": {
            "url": bamboohr.url(),
            "company": bamboohr.company(),
            "api_key": bamboohr.api_key(),
        },
        "gusto": {
            "url": gusto.url(),
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "company_uuid": gusto.company_uuid(),
        },
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    drop(out);
    // The fakes serve on this runtime until the process is killed.
    std::future::pending::<()>().await;
    Ok(())
}

/// The consultants of the demo firm: first name, last name, work email.
const PEOPLE: [(&str, &str, &str); 2] = [
    ("Ann", "Lee", "ann.lee@example.com"),
    ("Bo", "Lind", "bo.lind@example.com"),
];

/// Seeds one story in every fake: Northwind Traders, its two contacts and
/// a won deal in both CRMs; the firm's two consultants in the HRIS and in
/// payroll.
fn demo_data(
    hubspot: &FakeHubSpot,
    salesforce: &FakeSalesforce,
    bamboohr: &FakeBambooHr,
    gusto: &FakeGusto,
) {
    use serde_json::json;
    let contacts = [
        ("Maria", "Anders", "maria.anders@northwind.example"),
        ("Thomas", "Hardy", "thomas.hardy@northwind.example"),
    ];

    let company = hubspot.insert(
        "companies",
        [
            ("name", "Northwind Traders"),
            ("domain", "northwind.example"),
        ],
    );
    for (first, last, email) in contacts {
        let id = hubspot.insert(
            "contacts",
            [("firstname", first), ("lastname", last), ("email", email)],
        );
        hubspot.associate("contacts", &id, "companies", &company);
    }
    let deal = hubspot.insert(
        "deals",
        [
            ("dealname", "Northwind ERP roll-out"),
            ("amount", "48000"),
            ("deal_currency_code", "EUR"),
            ("pipeline", "default"),
            ("dealstage", "closedwon"),
            ("closedate", "2026-12-01T00:00:00.000Z"),
        ],
    );
    hubspot.associate("deals", &deal, "companies", &company);

    let account = salesforce.insert(
        "Account",
        json!({"Name": "Northwind Traders", "Website": "https://northwind.example"}),
    );
    for (first, last, email) in contacts {
        salesforce.insert(
            "Contact",
            json!({"FirstName": first, "LastName": last, "Email": email, "AccountId": account}),
        );
    }
    salesforce.insert(
        "Opportunity",
        json!({
            "Name": "Northwind ERP roll-out",
            "AccountId": account,
            "Amount": 48000,
            "StageName": "Closed Won",
            "CloseDate": "2026-12-01",
        }),
    );

    gusto.add_pay_schedule(json!({"frequency": "Every other week", "name": "Consultants"}));
    for (first, last, email) in PEOPLE {
        bamboohr.insert_employee([
            ("firstName", first),
            ("lastName", last),
            ("workEmail", email),
            ("jobTitle", "Consultant"),
        ]);
        gusto.add_employee(json!({"first_name": first, "last_name": last, "work_email": email}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_beat_the_environment_and_unset_is_a_free_port() {
        let env = |name: &str| {
            (name == "VENDOR_FAKES_GUSTO_PORT" || name == "VENDOR_FAKES_HUBSPOT_PORT")
                .then(|| "9004".to_owned())
        };
        let got = ports(
            args(&["--hubspot-port", "9001", "--bamboohr-port", "9003"]),
            env,
        );
        assert_eq!(got, Ok([9001, 0, 9003, 9004]));
        assert_eq!(ports(args(&[]), |_| None), Ok([0; 4]));
    }

    #[test]
    fn bad_arguments_are_named() {
        let none = |_: &str| None;
        let e = ports(args(&["--hubspot-port", "http"]), none).unwrap_err();
        assert!(e.contains("`http` is not a port"), "{e}");
        let e = ports(args(&["--odoo-port", "1"]), none).unwrap_err();
        assert!(e.contains("unknown argument `--odoo-port`"), "{e}");
        let e = ports(args(&["--gusto-port"]), none).unwrap_err();
        assert!(e.contains("--gusto-port needs a port"), "{e}");
        let e = ports(args(&[]), |_| Some("70000".to_owned())).unwrap_err();
        assert!(e.contains("VENDOR_FAKES_HUBSPOT_PORT"), "{e}");
    }
}
