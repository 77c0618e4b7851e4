//! The small files settings name (keys, certificates, configuration files):
//! read whole with a bound, and told apart from their next version by a stamp.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Files the exporter reads are small; a larger one is not the file meant.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A regular file of at most [`MAX_FILE_BYTES`]: a FIFO or a device would
/// block, a huge file is not the one meant. The bound holds on what is read,
/// not on the size the file reports: pseudo-files (`/proc/self/pagemap`)
/// report 0 and never end. The file is opened first, without blocking, and
/// what was opened is checked: checked by path and then opened, a FIFO
/// swapped in between blocked a worker for good.
pub fn read_small_file(path: &Path) -> Result<Vec<u8>, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let too_large = || format!("{} is larger than {MAX_FILE_BYTES} bytes", path.display());
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(cannot)?;
    let metadata = file.metadata().map_err(cannot)?;
    if !metadata.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    // Whole chunks: some pseudo-files refuse reads of odd sizes.
    let mut chunk = vec![0; 64 * 1024];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(read) if (bytes.len() + read) as u64 > MAX_FILE_BYTES => return Err(too_large()),
            Ok(read) => bytes.extend_from_slice(&chunk[..read]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot(e)),
        }
    }
}

/// The PEM certificates of a file, at least one.
pub fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read_small_file(path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{}: holds no PEM certificate", path.display()));
    }
    Ok(certificates)
}

/// What a file looked like when it was read. Kubernetes updates a mounted
/// Secret by swapping a symlink (a new inode); an edit in place changes the
/// time or the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    device: u64,
    inode: u64,
    modified_nanos: i128,
    length: u64,
}

impl FileStamp {
    /// The file's stamp now; `None` while it cannot be read.
    pub fn of(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            device: metadata.dev(),
            inode: metadata.ino(),
            modified_nanos: i128::from(metadata.mtime()) * 1_000_000_000
                + i128::from(metadata.mtime_nsec()),
            length: metadata.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    use super::read_small_file;

    /// A key file swapped for a FIFO and back, over and over, while it is
    /// read: every read ends, with the key or with "not a regular file".
    #[test]
    fn a_fifo_swapped_in_never_blocks_a_read() {
        let directory = tempfile::tempdir().unwrap();
        let (key, fifo, regular) = (
            directory.path().join("key"),
            directory.path().join("fifo"),
            directory.path().join("regular"),
        );
        let make_fifo = |path: &std::path::Path| {
            let path = CString::new(path.as_os_str().as_bytes()).unwrap();
            // SAFETY: mkfifo reads the NUL-terminated path it is given.
            assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        };
        std::fs::write(&key, "a-read-only-key").unwrap();
        let swapping = Arc::new(AtomicBool::new(true));
        let swapper = {
            let (swapping, key, fifo, regular) =
                (swapping.clone(), key.clone(), fifo.clone(), regular.clone());
            std::thread::spawn(move || {
                while swapping.load(Ordering::Relaxed) {
                    make_fifo(&fifo);
                    std::fs::rename(&key, &regular).unwrap();
                    std::fs::rename(&fifo, &key).unwrap();
                    std::fs::remove_file(&key).unwrap();
                    std::fs::rename(&regular, &key).unwrap();
                }
            })
        };
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            for _ in 0..20_000 {
                match read_small_file(&key) {
                    Ok(bytes) => assert_eq!(bytes, b"a-read-only-key"),
                    Err(problem) => assert!(
                        problem.contains("not a regular file") || problem.contains("No such file"),
                        "{problem}"
                    ),
                }
            }
            done.send(()).unwrap();
        });
        let ended = finished.recv_timeout(Duration::from_secs(60));
        swapping.store(false, Ordering::Relaxed);
        assert!(ended.is_ok(), "a read blocked on the FIFO");
        swapper.join().unwrap();
    }
}
