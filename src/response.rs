//! How a cached exposition goes out: the encoding the scraper prefers, and the
//! cached bytes themselves as the body, in slices (a text held compressed
//! only is decompressed a slice at a time).
//!
//! actix copies a body into the connection's write buffer, polling for more
//! only while that buffer is below its size (set to one slice). Handing it the
//! body as slices of the cached bytes (zero-copy) bounds what each connection
//! holds, whatever the size of the exposition and however slowly the client
//! reads.

use std::convert::Infallible;
use std::io::Read;

use actix_web::body::{BoxBody, SizedStream};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::HttpResponse;
use bytes::{Buf, Bytes};
use flate2::read::GzDecoder;
use futures_util::stream;

use crate::exposition::Rendered;
use crate::metrics::TEXT_CONTENT_TYPE;

/// Slice size, and the write buffer's: the response head and one slice fit in
/// 32 KiB, one allocator size class (a full 32 KiB slice after the head would
/// take the next class, 40 KiB, on every connection that is sending).
pub const SLICE: usize = 31 * 1024;

/// The encodings a cached exposition is held in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Zstd,
}

/// The encoding to answer in: the one the `Accept-Encoding` header gives the
/// highest quality of, zstd on a tie (smaller, and a scraper names it only
/// when it can read it), a compression over `identity` on a tie; none
/// accepted, the text. `*` stands for gzip only: a client that names no
/// coding can surely read the oldest. A coding whose quality is not a valid
/// qvalue (RFC 9110: 0 to 1, three decimals at most) is ignored.
pub fn encoding(headers: &HeaderMap) -> Encoding {
    let (mut gzip, mut zstd, mut identity, mut any) = (None, None, None, None);
    for coding in headers
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
    {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let Some(quality) = quality(parts) else {
            continue;
        };
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(quality);
        } else if name.eq_ignore_ascii_case("zstd") {
            zstd = Some(quality);
        } else if name.eq_ignore_ascii_case("identity") {
            identity = Some(quality);
        } else if name == "*" {
            any = Some(quality);
        }
    }
    let gzip = gzip.or(any).unwrap_or(0);
    let (zstd, identity) = (zstd.unwrap_or(0), identity.unwrap_or(0));
    if zstd > 0 && zstd >= gzip && zstd >= identity {
        Encoding::Zstd
    } else if gzip > 0 && gzip >= identity {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// A coding's quality in thousandths, from its parameters (`q` in any case);
/// 1000 without one, `None` when it is not a qvalue.
fn quality<'a>(parameters: impl Iterator<Item = &'a str>) -> Option<u16> {
    let mut quality = 1000;
    for parameter in parameters {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            quality = qvalue(value.trim())?;
        }
    }
    Some(quality)
}

/// `0`, `0.5`, `1.000`: thousandths; anything else (`2`, `NaN`, `-0`, `0.0001`) `None`.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The exposition as a 200 response, in the encoding given.
pub fn exposition(rendered: &Rendered, encoding: Encoding) -> HttpResponse {
    // Static header values: a hit formats nothing.
    let mut response = HttpResponse::Ok();
    response
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(TEXT_CONTENT_TYPE),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::VARY, HeaderValue::from_static("accept-encoding")));
    let body = match encoding {
        Encoding::Identity => {
            return response.body(match &rendered.text {
                Some(text) => sliced(text.pieces().clone()),
                None => decompressed(rendered.gzip.clone(), rendered.text_len),
            })
        }
        Encoding::Gzip => {
            response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
            &rendered.gzip
        }
        Encoding::Zstd => {
            response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("zstd")));
            &rendered.zstd
        }
    };
    response.body(sliced([body.clone()]))
}

/// The pieces, one after the other, as a body of known length, handed out a
/// slice at a time: a hit takes a reference to the cached pieces, no copy.
fn sliced(pieces: impl AsRef<[Bytes]> + 'static) -> BoxBody {
    if let [piece] = pieces.as_ref() {
        if piece.len() <= SLICE {
            return BoxBody::new(piece.clone());
        }
    }
    let length = pieces.as_ref().iter().map(|piece| piece.len() as u64).sum();
    let count = pieces.as_ref().len();
    let slices = (0..count).flat_map(move |index| {
        let piece = pieces.as_ref()[index].clone();
        (0..piece.len()).step_by(SLICE).map(move |start| {
            Ok::<_, Infallible>(piece.slice(start..(start + SLICE).min(piece.len())))
        })
    });
    BoxBody::new(SizedStream::new(length, stream::iter(slices)))
}

/// The text of a gzip body, decompressed a slice at a time as it is sent: a
/// sender holds the decoder (about 43 KB) and one slice.
fn decompressed(gzip: Bytes, length: usize) -> BoxBody {
    let decoder = GzDecoder::new(gzip.reader());
    let slices = stream::unfold(decoder, |mut decoder| async move {
        let mut slice = Vec::with_capacity(SLICE);
        match (&mut decoder).take(SLICE as u64).read_to_end(&mut slice) {
            Ok(0) => None,
            Ok(_) => Some((Ok(Bytes::from(slice)), decoder)),
            Err(error) => Some((Err(error), decoder)),
        }
    });
    BoxBody::new(SizedStream::new(length as u64, slices))
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
    fn the_encoding_is_the_most_preferred_of_those_held() {
        for (accepted, expected) in [
            (&["gzip"][..], Encoding::Gzip),
            (&["GZIP"], Encoding::Gzip),
            (&["deflate, gzip;q=1.0, *;q=0.5"], Encoding::Gzip),
            (&["x-gzip"], Encoding::Gzip),
            (&["br, *"], Encoding::Gzip),
            (&["gzip; q=0.001"], Encoding::Gzip),
            (&["br", "gzip"], Encoding::Gzip),
            (&["zstd"], Encoding::Zstd),
            (&["zstd, gzip"], Encoding::Zstd),
            (&["gzip, zstd"], Encoding::Zstd),
            (&["zstd;q=0.5, gzip;q=1"], Encoding::Gzip),
            (&["zstd;q=0, gzip"], Encoding::Gzip),
            (&["gzip;q=0.8", "ZSTD;q=0.9"], Encoding::Zstd),
            (&["*"], Encoding::Gzip),
            (&[], Encoding::Identity),
            (&[""], Encoding::Identity),
            (&["identity"], Encoding::Identity),
            (&["deflate, br"], Encoding::Identity),
            (&["gzip;q=0"], Encoding::Identity),
            (&["gzip; q=0.0, identity"], Encoding::Identity),
            (&["*;q=0"], Encoding::Identity),
            (&["zstd;q=0"], Encoding::Identity),
            // Parameter names are case-insensitive; identity is a coding like the others.
            (&["gzip;Q=0"], Encoding::Identity),
            (&["gzip ; Q = 0.5"], Encoding::Gzip),
            (&["identity;q=1, gzip;q=0.9"], Encoding::Identity),
            (&["identity;q=0.5, gzip;q=0.9"], Encoding::Gzip),
            (&["identity, gzip"], Encoding::Gzip),
            (
                &["identity;q=1, zstd;q=0.9, gzip;q=0.8"],
                Encoding::Identity,
            ),
            // What is not a qvalue does not count.
            (&["gzip;q=NaN"], Encoding::Identity),
            (&["gzip;q=2"], Encoding::Identity),
            (&["gzip;q=-0"], Encoding::Identity),
            (&["gzip;q=0.0001"], Encoding::Identity),
            (&["gzip;q=inf, zstd;q=1.000"], Encoding::Zstd),
        ] {
            assert_eq!(encoding(&headers(accepted)), expected, "{accepted:?}");
        }
    }

    #[actix_web::test]
    async fn a_text_held_compressed_only_is_sent_whole() {
        let text: String = (0..20_000)
            .map(|n| format!("qdrant_x{{n=\"{n}\"}} 1\n"))
            .collect();
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gzip, text.as_bytes()).unwrap();
        let rendered = Rendered {
            text: None,
            text_len: text.len(),
            gzip: Bytes::from(gzip.finish().unwrap()),
            zstd: Bytes::new(),
            up: true,
        };
        let response = exposition(&rendered, Encoding::Identity);
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        assert!(text.len() > 10 * SLICE);
        assert_eq!(body, text.as_bytes());
    }
}
