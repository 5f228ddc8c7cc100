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
  /// usual value. Plain lines come at each tenth of an epoch, but no sooner than
  /// `plain_interval_s` after the previous one (or the epoch's start): short epochs get only
  /// their summary line, so logs stay readable.
  Progress(std::FILE* out, bool tty, double plain_interval_s = 2.0)
      : out_(out), tty_(tty), plain_interval_(plain_interval_s) {}
  static bool is_tty(std::FILE* out);

  void begin_epoch(int epoch, int epochs, int64_t total);
  /// After each example: `done` examples so far this epoch, their mean loss.
  void update(int64_t done, double mean_loss);
  /// The epoch's summary line; metric NaN prints none.
  /// `train_seconds` is the time spent in training steps (the rate), `seconds` the whole epoch.
  void end_epoch(int64_t done, double mean_loss, double metric, bool best, double train_seconds,
                 double seconds, bool out_of_time);

  /// The text of a progress line without decoration (for tests): "epoch 2/5  45% ...".
  std::string line(int64_t done, double mean_loss, double elapsed) const;

 private:
  using Clock = std::chrono::steady_clock;
  double elapsed() const;

  std::FILE* out_;
  bool tty_;
  double plain_interval_;
  int epoch_ = 0, epochs_ = 0;
  int64_t total_ = 0;
  Clock::time_point start_;
  double last_draw_ = -1;   // seconds since start of the last line or redraw
  int last_decile_ = 0;     // last tenth printed (plain lines)
};

}  // namespace flare::train::detail
