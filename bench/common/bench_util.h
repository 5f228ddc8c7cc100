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

/// The best (smallest) seconds of `reps` timed calls of f: on a shared machine the minimum is
/// the figure least disturbed by other work.
template <typename F>
double best_seconds(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    Stopwatch w;
    f();
    const double s = w.seconds();
    if (s < best) best = s;
  }
  return best;
}

/// Peak resident memory of this process in MiB (getrusage).
double peak_rss_mb();

/// Prints the one JSON result line bench/run reads, on stdout, and flushes.
void print_result(const nlohmann::json& j);

}  // namespace flare::bench
