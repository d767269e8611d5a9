//! Files written whole: to a temporary file beside the target, synced, then renamed, so a failed
//! or cancelled export never leaves a half-written file where the user asked for one.

use std::path::Path;

/// A temporary file in `path`'s directory, to be renamed to `path` once complete.
pub fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    tempfile::NamedTempFile::new_in(dir)
}

/// Writes `data` to `path` through a temporary file in the same directory.
pub fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_beside(path)?;
    std::io::Write::write_all(&mut tmp, data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
