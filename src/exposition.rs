//! One refresh's exposition as it is served: the text and its gzip and zstd
//! encodings, each made once, so that a cache hit hands out bytes and
//! neither copies nor compresses. A large text is held compressed only.

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::metrics::{render, Family, Text};
use crate::qdrant::ApiKey;
use crate::refresh::Snapshot;

pub struct Rendered {
    /// The text, where it is held (up to [`PLAIN_HELD_UP_TO`]); else a
    /// scrape asking for it is sent the gzip body decompressed.
    pub text: Option<Text>,
    /// The text's length, held or not.
    pub text_len: usize,
    pub gzip: Bytes,
    pub zstd: Bytes,
    pub up: bool,
}

/// zstd's fastest level: at 1,000 collections 62 KB of 4.3 MB against gzip's
/// 190 KB (the bodies `cargo bench --bench exporter -- serving` prints). Timed
/// once by hand on that text: 1.2 ms against gzip's 1.6 ms, and levels 2 and 3
/// made nothing smaller.
const ZSTD_LEVEL: i32 = 1;

/// The largest text held as it is. A refresh builds the next text while the
/// last one is served: at 5,000 collections (23 MB) holding both took the
/// exporter to 70 MiB, past the 64 MiB it should stay within; held
/// compressed only, to 50–56 MiB (BENCHMARKS.md). Scrapers ask for gzip or
/// zstd; one asking for the text (curl without `--compressed`) costs the
/// decompression (by curl, 60 ms for 23 MB against 53 ms for the gzip body).
const PLAIN_HELD_UP_TO: usize = 16 * 1024 * 1024;

impl Rendered {
    /// Renders and compresses the snapshot: CPU work, run off the event loop.
    /// Lines holding the API key (a server echoing it back) are left out:
    /// returns how many were.
    pub fn of(snapshot: Snapshot, key: Option<&ApiKey>) -> (Rendered, usize) {
        let mut text = render(snapshot.families, snapshot.relayed);
        let mut left_out = 0;
        if let Some(finder) = key.and_then(ApiKey::finder) {
            text.map_pieces(|piece| {
                let (kept, count) = finder.lines_without(piece)?;
                left_out += count;
                Some(kept)
            });
        }
        (
            Self::compressed(text, snapshot.up, PLAIN_HELD_UP_TO),
            left_out,
        )
    }

    /// What a scrape gets before any refresh has finished: Qdrant has not answered yet.
    pub fn nothing_yet(families: Vec<Family>) -> Rendered {
        Self::compressed(render(families, String::new()), false, PLAIN_HELD_UP_TO)
    }

    fn compressed(text: Text, up: bool, plain_held_up_to: usize) -> Rendered {
        // The fast levels: exposition text compresses about twentyfold with
        // gzip even so, about seventyfold with zstd. Both are streamed: the
        // one-shot zstd API allocates its worst case, the text's whole size.
        let compress = || -> std::io::Result<(Vec<u8>, Vec<u8>)> {
            let mut gzip = GzEncoder::new(Vec::with_capacity(text.len() / 8), Compression::fast());
            text.write_to(&mut gzip)?;
            let mut zstd =
                zstd::stream::write::Encoder::new(Vec::with_capacity(text.len() / 32), ZSTD_LEVEL)?;
            text.write_to(&mut zstd)?;
            Ok((gzip.finish()?, zstd.finish()?))
        };
        let (gzip, zstd) = compress().expect("compressing into a Vec cannot fail");
        Rendered {
            text_len: text.len(),
            text: (text.len() <= plain_held_up_to).then_some(text),
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

    static UP: FamilySpec = FamilySpec::gauge("qdrant_up", &[], "up");

    fn whole(text: &Text) -> Vec<u8> {
        let mut out = Vec::new();
        text.write_to(&mut out).unwrap();
        out
    }

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
        assert_eq!(text.as_bytes(), whole(rendered.text.as_ref().unwrap()));
        assert!(text.contains("qdrant_up 1\n"));
    }

    #[test]
    fn the_zstd_body_is_the_text_compressed() {
        let rendered = rendered();
        let text = zstd::stream::decode_all(&rendered.zstd[..]).unwrap();
        assert_eq!(text, whole(rendered.text.as_ref().unwrap()));
    }

    #[test]
    fn a_text_above_the_limit_is_held_compressed_only() {
        let text = || render(vec![GaugeFamily::single(&UP, 1.0)], String::new());
        let length = text().len();
        let held = Rendered::compressed(text(), true, length);
        assert_eq!(held.text.map(|text| text.len()), Some(length));
        let compressed_only = Rendered::compressed(text(), true, length - 1);
        assert!(compressed_only.text.is_none());
        assert_eq!(compressed_only.text_len, length);
        assert_eq!(compressed_only.gzip, held.gzip);
    }
}
