//! Model files named by their directory or by themselves.

use std::path::{Path, PathBuf};

/// `path/file_name` when `path` is a directory (a model directory), else `path` itself.
pub(crate) fn in_dir_or_itself(path: &Path, file_name: &str) -> PathBuf {
    if path.is_dir() {
        path.join(file_name)
    } else {
        path.to_path_buf()
    }
}
