//! The `volumes` collector: how full Qdrant's storage is, read by the
//! sidecar itself. The sidecar shares Qdrant's pod, and `kube sidecar`
//! mounts Qdrant's storage volume into it read-only; `statvfs` of that
//! mount is the volume's size and use, the figure Qdrant's own telemetry
//! lacks (it reports the volume's size alone). No request to Qdrant.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::failure::Failure;
use super::output::Output;
use super::Volume;
use crate::metrics::{FamilySpec, GaugeFamily};

static SIZE: FamilySpec = FamilySpec::gauge(
    "qdrant_volume_size_bytes",
    &["volume"],
    "Size of the filesystem of the volume (the volumes setting: Qdrant's storage, mounted \
     read-only into the sidecar).",
);
static AVAILABLE: FamilySpec = FamilySpec::gauge(
    "qdrant_volume_available_bytes",
    &["volume"],
    "Bytes of the volume's filesystem that Qdrant may still write (statvfs f_bavail).",
);
static FILES: FamilySpec = FamilySpec::gauge(
    "qdrant_volume_files",
    &["volume"],
    "Inodes of the volume's filesystem.",
);
static FILES_FREE: FamilySpec = FamilySpec::gauge(
    "qdrant_volume_files_free",
    &["volume"],
    "Free inodes of the volume's filesystem.",
);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[&SIZE, &AVAILABLE, &FILES, &FILES_FREE];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    futures_util::future::ready(volumes(ctx.volumes)).boxed_local()
}

/// A filesystem's figures, as `statvfs` gives them.
struct Usage {
    size: f64,
    available: f64,
    files: f64,
    files_free: f64,
}

fn volumes(volumes: &[Volume]) -> Output {
    let mut families = [&SIZE, &AVAILABLE, &FILES, &FILES_FREE].map(GaugeFamily::new);
    let mut failure = None;
    for volume in volumes {
        match usage(&volume.path) {
            Ok(usage) => {
                let labels = [("volume", volume.name.as_str())];
                for (family, value) in families.iter_mut().zip([
                    usage.size,
                    usage.available,
                    usage.files,
                    usage.files_free,
                ]) {
                    family.push(&labels, value);
                }
            }
            Err(error) => {
                failure.get_or_insert(Failure {
                    kind: "volume unreadable".into(),
                    message: format!(
                        "cannot read the filesystem of volume {} at {}: {error}",
                        volume.name,
                        volume.path.display()
                    ),
                    hint: "mount Qdrant's storage volume read-only into the sidecar at that path \
                           (kube sidecar does), or leave it out of QDRANT_EXPORTER_VOLUMES",
                });
            }
        }
    }
    Output {
        failure,
        ..Output::families(families.map(GaugeFamily::finish).into())
    }
}

fn usage(path: &Path) -> std::io::Result<Usage> {
    let path = CString::new(path.as_os_str().as_bytes())?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `path` is a NUL-terminated string and `stats` is a valid place
    // for the struct statvfs fills; it is read only after a success.
    let stats = unsafe {
        if libc::statvfs(path.as_ptr(), stats.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        stats.assume_init()
    };
    let block = stats.f_frsize as f64;
    Ok(Usage {
        size: stats.f_blocks as f64 * block,
        available: stats.f_bavail as f64 * block,
        files: stats.f_files as f64,
        files_free: stats.f_ffree as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::render;

    fn text(output: Output) -> String {
        let mut out = Vec::new();
        render(output.families, String::new())
            .write_to(&mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_volume_is_its_filesystems_size_and_what_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let output = volumes(&[Volume {
            name: "storage".into(),
            path: dir.path().to_owned(),
        }]);
        assert!(output.failure.is_none());
        let m = text(output);
        let value = |name: &str| -> f64 {
            let prefix = format!("{name}{{volume=\"storage\"}} ");
            m.lines()
                .find_map(|line| line.strip_prefix(prefix.as_str()))
                .unwrap_or_else(|| panic!("{name} in {m}"))
                .parse()
                .unwrap()
        };
        let (size, available) = (
            value("qdrant_volume_size_bytes"),
            value("qdrant_volume_available_bytes"),
        );
        assert!(size > 0.0 && available <= size, "{size} {available}");
        assert!(value("qdrant_volume_files_free") <= value("qdrant_volume_files"));
    }

    #[test]
    fn a_volume_not_mounted_fails_the_collector_with_a_hint_and_the_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let output = volumes(&[
            Volume {
                name: "snapshots".into(),
                path: dir.path().join("not-mounted"),
            },
            Volume {
                name: "storage".into(),
                path: dir.path().to_owned(),
            },
        ]);
        let failure = output.failure.as_ref().expect("a failure");
        assert!(
            failure.message.contains("volume snapshots"),
            "{}",
            failure.message
        );
        assert!(failure.hint.contains("read-only"));
        let m = text(output);
        assert!(m.contains("qdrant_volume_size_bytes{volume=\"storage\"}"));
        assert!(!m.contains("volume=\"snapshots\""));
    }
}
