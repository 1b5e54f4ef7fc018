//! The id of a change: who sent it, for which record, and when.

use odoo_integration_model::{RemoteId, SystemId};

/// `system:remote@time`, the time as RFC 3339 in UTC (what
/// `DateTime::to_rfc3339` gives). Runs for every record, so the digits are
/// written by hand rather than through `format!`.
pub(crate) fn change_id(
    system: &SystemId,
    remote: &RemoteId,
    at: chrono::DateTime<chrono::Utc>,
) -> String {
    use chrono::{Datelike, Timelike};
    fn digits(out: &mut String, n: u32, width: u32) {
        let mut div = 10u32.pow(width - 1);
        while div > 0 {
            out.push(char::from(b'0' + ((n / div) % 10) as u8));
            div /= 10;
        }
    }
    let mut id = String::with_capacity(system.as_str().len() + remote.as_str().len() + 40);
    id.push_str(system.as_str());
    id.push(':');
    id.push_str(remote.as_str());
    id.push('@');
    let year = at.year();
    if (0..=9999).contains(&year) {
        digits(&mut id, year as u32, 4);
    } else {
        id.push_str(&year.to_string());
    }
    for (sep, n) in [('-', at.month()), ('-', at.day()), ('T', at.hour())] {
        id.push(sep);
        digits(&mut id, n, 2);
    }
    for n in [at.minute(), at.second()] {
        id.push(':');
        digits(&mut id, n, 2);
    }
    match at.nanosecond() % 1_000_000_000 {
        0 => {}
        n if n % 1_000_000 == 0 => {
            id.push('.');
            digits(&mut id, n / 1_000_000, 3);
        }
        n if n % 1_000 == 0 => {
            id.push('.');
            digits(&mut id, n / 1_000, 6);
        }
        n => {
            id.push('.');
            digits(&mut id, n, 9);
        }
    }
    id.push_str("+00:00");
    id
}

#[cfg(test)]
mod tests {
    use super::change_id;
    use chrono::{TimeZone, Utc};
    use odoo_integration_model::{RemoteId, SystemId};

    #[test]
    fn change_ids_carry_the_time_as_to_rfc3339_writes_it() {
        let (s, r) = (SystemId::hubspot(), RemoteId::new("981"));
        for (secs, nanos) in [
            (1_795_000_000, 0),
            (1_795_000_000, 5_000_000),
            (1_795_000_000, 123_456_000),
            (1_795_000_000, 123_456_789),
            (1_795_000_000, 1),
            (0, 0),
            (-62_000_000_000, 7),           // year 5
            (253_402_300_799, 999_999_999), // 9999-12-31T23:59:59
        ] {
            let at = Utc.timestamp_opt(secs, nanos).single().unwrap_or_default();
            assert_eq!(
                change_id(&s, &r, at),
                format!("hubspot:981@{}", at.to_rfc3339())
            );
        }
    }
}
