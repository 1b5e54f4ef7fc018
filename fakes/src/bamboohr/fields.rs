//! The fields the fake BambooHR knows: BambooHR's standard employee
//! fields, and custom ones (any field set on an employee, or declared with
//! [`FakeBambooHr::define_field`](super::FakeBambooHr::define_field)).
//!
//! BambooHR answers a custom report that asks for a field it does not
//! know with 200, leaving the field out of the report's `fields` list and
//! of every row, exactly as for a field the key may not see; the fake
//! does the same, so a misspelt or deleted custom field is never read as
//! an empty value.

use super::Store;

/// BambooHR's standard employee fields (API names), from its published
/// field list. Reports always know `id`; `lastChanged` and `status` are
/// standard too.
const STANDARD: &[&str] = &[
    "acaStatus",
    "acaStatusCategory",
    "address1",
    "address2",
    "age",
    "bestEmail",
    "birthday",
    "bonusAmount",
    "bonusComment",
    "bonusDate",
    "bonusReason",
    "city",
    "commissionAmount",
    "commissionComment",
    "commissionDate",
    "country",
    "createdByUserId",
    "dateOfBirth",
    "department",
    "displayName",
    "division",
    "eeo",
    "employeeNumber",
    "employmentHistoryStatus",
    "ethnicity",
    "exempt",
    "firstName",
    "flsaCode",
    "fullName1",
    "fullName2",
    "fullName3",
    "fullName4",
    "fullName5",
    "gender",
    "hireDate",
    "homeEmail",
    "homePhone",
    "id",
    "isPhotoUploaded",
    "jobTitle",
    "lastChanged",
    "lastName",
    "location",
    "maritalStatus",
    "middleName",
    "mobilePhone",
    "nationalId",
    "nationality",
    "nickname",
    "originalHireDate",
    "payChangeReason",
    "payGroup",
    "payGroupId",
    "payPer",
    "payRate",
    "payRateEffectiveDate",
    "payType",
    "paySchedule",
    "payScheduleId",
    "payFrequency",
    "preferredName",
    "sin",
    "ssn",
    "state",
    "stateCode",
    "status",
    "supervisor",
    "supervisorEId",
    "supervisorEmail",
    "supervisorId",
    "terminationDate",
    "workEmail",
    "workPhone",
    "workPhoneExtension",
    "workPhonePlusExtension",
    "zipcode",
];

/// Whether BambooHR knows the field `name`: a standard one, or a custom
/// one (ever set on an employee through the seeding helpers, or
/// declared).
pub(super) fn known(store: &Store, name: &str) -> bool {
    STANDARD.contains(&name) || store.defined.contains(name)
}

#[cfg(test)]
mod tests {
    use super::STANDARD;

    #[test]
    fn the_standard_list_has_the_fields_the_connector_maps() {
        for f in [
            "employeeNumber",
            "firstName",
            "lastName",
            "workEmail",
            "department",
            "jobTitle",
            "supervisorEId",
            "status",
            "terminationDate",
            "hireDate",
            "workPhone",
        ] {
            assert!(STANDARD.contains(&f), "{f}");
        }
        assert!(!STANDARD.contains(&"customCostRate"));
    }
}
