#pragma once
// The trainer's progress display (not public API): a bar redrawn in place on a terminal, plain
// lines elsewhere (logs, CI), so the same run reads well in both.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace flare::train::detail {

/// "1:05", "12:00:07"; "?" for a negative or non-finite number of seconds.
std::string format_duration(double seconds);

class Progress {
 public:
  /// `out` may be nullptr (silent). `tty` chooses the redrawn bar; Progress::is_tty(out) is the
  /// usual value.
  Progress(std::FILE* out, bool tty) : out_(out), tty_(tty) {}
  static bool is_tty(std::FILE* out);

  void begin_epoch(int epoch, int epochs, int64_t total);
  /// After each example: `done` examples so far this epoch, their mean loss.
  void update(int64_t done, double mean_loss);
  /// The epoch's summary line; metric NaN prints none.
  void end_epoch(int64_t done, double mean_loss, double metric, bool best, double seconds,
                 bool out_of_time);

  /// The text of a progress line without decoration (for tests): "epoch 2/5  45% ...".
  std::string line(int64_t done, double mean_loss, double elapsed) const;

 private:
  using Clock = std::chrono::steady_clock;
  double elapsed() const;

  std::FILE* out_;
  bool tty_;
  int epoch_ = 0, epochs_ = 0;
  int64_t total_ = 0;
  Clock::time_point start_;
  double last_draw_ = -1;   // seconds since start of the last redraw (tty)
  int last_decile_ = 0;     // last tenth printed (plain lines)
};

}  // namespace flare::train::detail
