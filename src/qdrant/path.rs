//! A collection name (or anything else) as one segment of a request's path.

use std::borrow::Cow;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986 "unreserved" characters is escaped in a path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `name` as a path segment. `.` and `..` are unreserved, but as a whole
/// segment they would be read as the path's own dot segments.
pub fn encode(name: &str) -> Cow<'_, str> {
    match name {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        name => utf8_percent_encode(name, PATH_SEGMENT).into(),
    }
}
