#pragma once
// Crash-safe file replacement (not part of the public API).
#include <cstddef>
#include <string>

namespace flare::io::detail {

/// Writes `n` bytes to a new temporary file beside `path`, fsyncs it, renames it over `path`
/// and fsyncs the directory. On failure the temporary is removed and IoError names `path`.
void write_file_atomically(const std::string& path, const void* data, size_t n);

}  // namespace flare::io::detail
