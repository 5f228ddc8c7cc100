#include <cstdlib>
#include <filesystem>
#include <string>

#include "flare/io/datasets.h"

namespace flare::io {
namespace fs = std::filesystem;
namespace {

// The repository root: FLARE_SOURCE_DIR when the build defines it, else derived from this
// file's own path (CMake compiles with absolute paths), so a program run from its build
// directory still finds the data beside the checkout.
fs::path source_root() {
#ifdef FLARE_SOURCE_DIR
  return fs::path(FLARE_SOURCE_DIR);
#else
  fs::path self(__FILE__);
  if (!self.is_absolute()) return {};
  return self.parent_path().parent_path().parent_path();  // strip src/io/data_dir.cc
#endif
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

}  // namespace

std::string data_dir() {
  if (const char* env = std::getenv("FLARE_DATA"); env != nullptr && *env != '\0') return env;
  const fs::path rel = fs::path("..") / "shared" / "data";
  if (is_dir(rel)) return rel.string();
  const fs::path root = source_root();
  if (!root.empty() && is_dir(root / rel)) return (root / rel).lexically_normal().string();
  return rel.string();
}

std::optional<std::string> find_data(const std::string& relative) {
  const fs::path p = fs::path(data_dir()) / relative;
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  return p.string();
}

}  // namespace flare::io
