//! Bounded reads and crash-safe writes of small files.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::ConfigError;

/// Reads `path` as UTF-8, refusing files larger than `max_bytes`.
pub(crate) fn read_capped(path: &Path, max_bytes: u64) -> Result<String, ConfigError> {
    let file = File::open(path).map_err(|e| ConfigError::io(path, "read", e))?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ConfigError::io(path, "read", e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(ConfigError::malformed(
            path,
            format!("file is larger than the {max_bytes}-byte limit for this kind of file"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        ConfigError::malformed(
            path,
            format!(
                "not valid UTF-8 (first bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Writes `contents` to `path` so that a crash leaves either the old file or the new one.
///
/// The bytes go to a temporary file beside `path` (created with mode 0600 when `private`,
/// so a secret is never readable by others, not even for a moment), are synced, and the
/// temporary file is then renamed into place and the directory synced. Without `force` an
/// existing `path` is an [`ConfigError::AlreadyExists`] and nothing is written.
pub(crate) fn write_atomic(
    path: &Path,
    contents: &[u8],
    private: bool,
    force: bool,
) -> Result<(), ConfigError> {
    if !force && path.symlink_metadata().is_ok() {
        return Err(ConfigError::AlreadyExists {
            path: path.to_path_buf(),
        });
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| ConfigError::malformed(path, "not a file path"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    // A temporary file left by a crashed run of this same process id is stale.
    let _ = fs::remove_file(&tmp);

    let result = write_new(&tmp, contents, private).and_then(|()| {
        fs::rename(&tmp, path).map_err(|e| ConfigError::io(path, "rename into place", e))
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable. Some file systems cannot sync a directory; the file
    // is in place either way, so that is not worth failing over.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_new(tmp: &Path, contents: &[u8], private: bool) -> Result<(), ConfigError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(tmp)
        .map_err(|e| ConfigError::io(tmp, "create", e))?;
    #[cfg(unix)]
    if private {
        // The creation mode is masked by the umask, which can only remove bits; set it
        // exactly so the file is 0600 whatever the umask.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| ConfigError::io(tmp, "set permissions on", e))?;
    }
    file.write_all(contents)
        .map_err(|e| ConfigError::io(tmp, "write", e))?;
    file.sync_all().map_err(|e| ConfigError::io(tmp, "sync", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_overwrite_without_force_and_replaces_with_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.txt");
        write_atomic(&path, b"one", false, false).expect("first write");
        let err = write_atomic(&path, b"two", false, false).expect_err("second write");
        assert!(matches!(err, ConfigError::AlreadyExists { .. }), "{err}");
        assert_eq!(fs::read(&path).expect("read"), b"one");
        write_atomic(&path, b"two", false, true).expect("forced write");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            leftovers.len(),
            1,
            "temporary file left behind: {leftovers:?}"
        );
    }

    #[test]
    fn read_capped_rejects_large_and_missing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big");
        fs::write(&path, vec![b'a'; 11]).expect("write");
        let err = read_capped(&path, 10).expect_err("too large");
        assert!(
            err.to_string().contains("larger than the 10-byte limit"),
            "{err}"
        );
        assert_eq!(read_capped(&path, 11).expect("fits").len(), 11);
        let err = read_capped(&dir.path().join("nope"), 10).expect_err("missing");
        assert!(matches!(err, ConfigError::NotFound { .. }), "{err}");
        assert!(err.to_string().ends_with("nope: file not found"), "{err}");
    }
}
