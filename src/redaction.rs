//! Parser messages without the values they quote: a value may be a key (a
//! YAML file that is one string, a key of the wrong type).

use std::sync::LazyLock;

use regex::Regex;

/// A quoted value, or a field name as the parsers quote it (`field \`name\``).
static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(field )?("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)"#)
        .expect("a valid pattern")
});

/// The message with every quoted value replaced; field names stay. The values
/// a boolean accepts are named (the parsers quote them, as they quote values).
pub fn without_values(message: &str) -> String {
    let message = message
        .replace(
            "provided string was not `true` or `false`",
            "must be true or false:",
        )
        .replace("expected a boolean", "expected true or false");
    QUOTED
        .replace_all(&message, |found: &regex::Captures| match found.get(1) {
            Some(_) => found[0].to_owned(),
            None => "(value not shown)".to_owned(),
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn quoted_values_are_left_out_and_field_names_kept() {
        assert_eq!(
            without_values(
                r#"invalid type: string "qdrant_api_key s3cr3t", expected struct Settings"#
            ),
            "invalid type: string (value not shown), expected struct Settings"
        );
        assert_eq!(
            without_values("invalid type: integer `12345`, expected a string at line 1"),
            "invalid type: integer (value not shown), expected a string at line 1"
        );
        assert_eq!(
            without_values("invalid digit found in string while parsing value 'x\\'y' provided by concurrency"),
            "invalid digit found in string while parsing value (value not shown) provided by concurrency"
        );
        assert_eq!(
            without_values("unknown field `concurency`"),
            "unknown field `concurency`"
        );
        assert_eq!(
            without_values(
                "provided string was not `true` or `false` while parsing value `yes` provided by x"
            ),
            "must be true or false: while parsing value (value not shown) provided by x"
        );
    }
}
