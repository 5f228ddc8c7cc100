#pragma once
// Helpers every flare bench program shares: timing, peak memory, the JSON result line.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace flare::bench {

/// Seconds since construction, on a monotonic clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void restart() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

/// Peak resident memory of this process in MiB (getrusage).
double peak_rss_mb();

/// Prints the one JSON result line bench/run reads, on stdout, and flushes.
void print_result(const nlohmann::json& j);

}  // namespace flare::bench
