#pragma once
// Helpers shared by the io tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "flare/error.h"

namespace flare::io::testing {

/// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("flare_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

}  // namespace flare::io::testing

/// Expects `stmt` to throw flare::IoError whose message contains `substr`.
#define EXPECT_IO_ERROR(stmt, substr)                                                    \
  do {                                                                                   \
    try {                                                                                \
      stmt;                                                                              \
      ADD_FAILURE() << "expected IoError containing \"" << (substr) << "\" from " #stmt; \
    } catch (const ::flare::IoError& e) {                                                \
      EXPECT_NE(std::string(e.what()).find(substr), std::string::npos)                   \
          << "message: " << e.what() << "\nexpected to contain: " << (substr);           \
    }                                                                                    \
  } while (0)
