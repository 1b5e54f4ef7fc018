//! `#[serde(rename_all = "...")]`: the rules serde applies to a struct's
//! field names, so that `FIELDS` names exactly what serde reads.

/// One of serde's `rename_all` rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

/// The rule names serde accepts, in the order its documentation lists them.
pub(crate) const NAMES: &[(&str, Rule)] = &[
    ("lowercase", Rule::Lower),
    ("UPPERCASE", Rule::Upper),
    ("PascalCase", Rule::Pascal),
    ("camelCase", Rule::Camel),
    ("snake_case", Rule::Snake),
    ("SCREAMING_SNAKE_CASE", Rule::ScreamingSnake),
    ("kebab-case", Rule::Kebab),
    ("SCREAMING-KEBAB-CASE", Rule::ScreamingKebab),
];

impl Rule {
    /// The rule called `name`, if serde has one by that name.
    pub(crate) fn from_name(name: &str) -> Option<Rule> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    /// The name serde gives a field called `field` (a Rust field name, in
    /// snake case) under this rule.
    pub(crate) fn apply(self, field: &str) -> String {
        match self {
            Rule::Lower | Rule::Snake => field.to_owned(),
            Rule::Upper | Rule::ScreamingSnake => field.to_ascii_uppercase(),
            Rule::Pascal => {
                let mut out = String::with_capacity(field.len());
                let mut word_start = true;
                for c in field.chars() {
                    if c == '_' {
                        word_start = true;
                    } else if word_start {
                        out.push(c.to_ascii_uppercase());
                        word_start = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            Rule::Camel => {
                let pascal = Rule::Pascal.apply(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            Rule::Kebab => field.replace('_', "-"),
            Rule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rule;

    #[test]
    fn each_rule_renames_a_snake_case_field() {
        let cases = [
            (Rule::Lower, "partner_id"),
            (Rule::Upper, "PARTNER_ID"),
            (Rule::Pascal, "PartnerId"),
            (Rule::Camel, "partnerId"),
            (Rule::Snake, "partner_id"),
            (Rule::ScreamingSnake, "PARTNER_ID"),
            (Rule::Kebab, "partner-id"),
            (Rule::ScreamingKebab, "PARTNER-ID"),
        ];
        for (rule, expected) in cases {
            assert_eq!(rule.apply("partner_id"), expected, "{rule:?}");
        }
    }

    #[test]
    fn edge_cases_neither_panic_nor_invent_characters() {
        assert_eq!(Rule::Camel.apply("_"), "");
        assert_eq!(Rule::Camel.apply(""), "");
        assert_eq!(Rule::Pascal.apply("x_studio__field_2"), "XStudioField2");
        assert_eq!(Rule::Camel.apply("name"), "name");
    }

    #[test]
    fn names_round_trip() {
        for (name, rule) in super::NAMES {
            assert_eq!(Rule::from_name(name), Some(*rule));
        }
        assert_eq!(Rule::from_name("Train-Case"), None);
    }
}
