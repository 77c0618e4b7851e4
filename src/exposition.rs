//! One refresh's exposition as it is served: the text and its gzip and zstd
//! encodings, each made once, so that a cache hit hands out bytes and
//! neither copies nor compresses.

use std::io::Write;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::metrics::{render, Family};
use crate::qdrant::ApiKey;
use crate::refresh::Snapshot;

pub struct Rendered {
    pub text: Bytes,
    pub gzip: Bytes,
    pub zstd: Bytes,
    pub up: bool,
}

/// zstd's fastest level: at 1,000 collections 62 KB of 4.3 MB against gzip's
/// 190 KB (the bodies `cargo bench --bench exporter -- serving` prints). Timed
/// once by hand on that text: 1.2 ms against gzip's 1.6 ms, and levels 2 and 3
/// made nothing smaller.
const ZSTD_LEVEL: i32 = 1;

impl Rendered {
    /// Renders and compresses the snapshot: CPU work, run off the event loop.
    /// Lines holding the API key (a server echoing it back) are left out:
    /// returns how many were.
    pub fn of(snapshot: Snapshot, key: Option<&ApiKey>) -> (Rendered, usize) {
        let text = Self::text(snapshot.families, &snapshot.relayed);
        let (text, left_out) = match key {
            Some(key) => key.lines_without(text),
            None => (text, 0),
        };
        (Self::compressed(text, snapshot.up), left_out)
    }

    /// What a scrape gets before any refresh has finished: Qdrant has not answered yet.
    pub fn nothing_yet(families: Vec<Family>) -> Rendered {
        Self::compressed(Self::text(families, ""), false)
    }

    fn text(families: Vec<Family>, relayed: &str) -> Vec<u8> {
        let mut text = Vec::with_capacity(relayed.len());
        render(families, &mut text);
        text.extend_from_slice(relayed.as_bytes());
        text
    }

    fn compressed(text: Vec<u8>, up: bool) -> Rendered {
        // The fast levels: exposition text compresses about twentyfold with
        // gzip even so, about seventyfold with zstd.
        let mut gzip = GzEncoder::new(Vec::with_capacity(text.len() / 8), Compression::fast());
        let gzip = gzip
            .write_all(&text)
            .and_then(|()| gzip.finish())
            .expect("compressing into a Vec cannot fail");
        // Streamed: the one-shot API allocates its worst case, the text's whole size.
        let mut zstd = Vec::with_capacity(text.len() / 32);
        zstd::stream::copy_encode(&text[..], &mut zstd, ZSTD_LEVEL)
            .expect("compressing into a Vec cannot fail");
        Rendered {
            text: Bytes::from(text),
            gzip: Bytes::from(gzip),
            zstd: Bytes::from(zstd),
            up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{FamilySpec, GaugeFamily};

    static UP: FamilySpec = FamilySpec::gauge("qdrant_up", "up");

    fn rendered() -> Rendered {
        Rendered::nothing_yet(vec![GaugeFamily::single(&UP, 1.0)])
    }

    #[test]
    fn the_gzip_body_is_the_text_compressed() {
        let rendered = rendered();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&rendered.gzip[..]),
            &mut text,
        )
        .unwrap();
        assert_eq!(text.as_bytes(), &rendered.text[..]);
        assert!(text.contains("qdrant_up 1\n"));
    }

    #[test]
    fn the_zstd_body_is_the_text_compressed() {
        let rendered = rendered();
        let text = zstd::stream::decode_all(&rendered.zstd[..]).unwrap();
        assert_eq!(text, &rendered.text[..]);
    }
}
