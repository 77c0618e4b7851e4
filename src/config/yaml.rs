//! The YAML files of the configuration, read as text with a bound on their
//! nesting: the YAML parser takes time quadratic in the depth (40,000 nested
//! `[` took 6.8 s to refuse), and no setting nests more than a few levels.

use std::path::Path;

use crate::files::read_small_file;

/// Deeper than any of our files needs, and parsed in milliseconds.
const MAX_DEPTH: usize = 256;

/// The file's text; `Err` says why it is not a configuration file.
pub fn read_yaml_text(path: &Path) -> Result<String, String> {
    let bytes = read_small_file(path)?;
    let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
    match nesting_bound(&text) {
        depth if depth > MAX_DEPTH => Err(format!(
            "nests deeper than {MAX_DEPTH} levels (at least {depth})"
        )),
        _ => Ok(text),
    }
}

/// An upper bound on the nesting the parser will see: per line, the
/// indentation, the block indicators (`- - - x` nests three sequences) and the
/// flow collections opened and not yet closed (outside quotes and comments).
fn nesting_bound(text: &str) -> usize {
    let mut flow: usize = 0;
    let mut deepest = 0;
    for line in text.lines() {
        let indentation = line.len() - line.trim_start_matches(' ').len();
        let mut block = 0;
        let mut rest = &line[indentation..];
        while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
            block += 1;
            rest = after.trim_start_matches(' ');
        }
        let mut quote = None;
        let mut previous = ' ';
        let mut escaped = false;
        for c in rest.chars() {
            match quote {
                Some('"') if escaped => escaped = false,
                Some('"') if c == '\\' => escaped = true,
                Some(open) if c == open => quote = None,
                Some(_) => {}
                None => match c {
                    '#' if previous.is_whitespace() => break,
                    '\'' | '"' if " \t[{,:".contains(previous) => quote = Some(c),
                    '[' | '{' => flow += 1,
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            previous = c;
            deepest = deepest.max(indentation + block + flow);
        }
        deepest = deepest.max(indentation + block + flow);
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::nesting_bound;

    #[test]
    fn counts_flow_block_and_indentation_levels() {
        assert_eq!(nesting_bound("a: 1\n"), 0);
        assert_eq!(nesting_bound("a:\n  b: [1, {c: 2}]\n"), 4);
        assert_eq!(nesting_bound("- - - x\n"), 3);
        assert_eq!(nesting_bound(&"[".repeat(1000)), 1000);
        assert_eq!(nesting_bound("a: '[[[[' # [[[[\nb: \"\\\"[\"\n"), 0);
        assert_eq!(nesting_bound("a: don't [x]\n"), 1);
    }
}
