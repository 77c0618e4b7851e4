//! How a cached exposition goes out: the encoding the scraper accepts, and the
//! cached bytes themselves as the body, in slices.
//!
//! actix copies a body into the connection's write buffer, polling for more
//! only while that buffer is below its size (set to one slice). Handing it the
//! body as slices of the cached bytes (zero-copy) bounds what each connection
//! holds, whatever the size of the exposition and however slowly the client
//! reads.

use std::convert::Infallible;

use actix_web::body::{BoxBody, SizedStream};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::HttpResponse;
use bytes::Bytes;
use futures_util::stream;

use crate::cache::Rendered;
use crate::metrics::TEXT_CONTENT_TYPE;

/// Slice size, and the write buffer's: the response head and one slice fit in
/// 32 KiB, one allocator size class (a full 32 KiB slice after the head would
/// take the next class, 40 KiB, on every connection that is sending).
pub const SLICE: usize = 31 * 1024;

/// Whether the `Accept-Encoding` header accepts gzip (`gzip`, `x-gzip` or `*`
/// with a quality above 0).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            quality > 0.0
                && (name.eq_ignore_ascii_case("gzip")
                    || name.eq_ignore_ascii_case("x-gzip")
                    || name == "*")
        })
}

/// The exposition as a 200 response: gzip when accepted, else the text.
pub fn exposition(rendered: &Rendered, gzip: bool) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .content_type(TEXT_CONTENT_TYPE)
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .insert_header((header::VARY, HeaderValue::from_static("accept-encoding")));
    let body = if gzip {
        response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
        &rendered.gzip
    } else {
        &rendered.text
    };
    response.body(sliced(body.clone()))
}

/// The bytes as a body of known length, handed out a slice at a time.
fn sliced(body: Bytes) -> BoxBody {
    if body.len() <= SLICE {
        return BoxBody::new(body);
    }
    let length = body.len() as u64;
    let slices = (0..body.len())
        .step_by(SLICE)
        .map(move |start| Ok::<_, Infallible>(body.slice(start..(start + SLICE).min(body.len()))));
    BoxBody::new(SizedStream::new(length, stream::iter(slices)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept_encoding: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in accept_encoding {
            headers.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn gzip_is_sent_only_where_it_is_accepted() {
        for accepted in [
            "gzip",
            "GZIP",
            "deflate, gzip;q=1.0, *;q=0.5",
            "x-gzip",
            "br, *",
            "gzip; q=0.001",
        ] {
            assert!(accepts_gzip(&headers(&[accepted])), "{accepted}");
        }
        for refused in [
            "",
            "identity",
            "deflate, br",
            "gzip;q=0",
            "gzip; q=0.0, identity",
            "*;q=0",
        ] {
            assert!(!accepts_gzip(&headers(&[refused])), "{refused}");
        }
        assert!(
            accepts_gzip(&headers(&["br", "gzip"])),
            "several header lines"
        );
    }
}
