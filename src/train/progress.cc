#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace flare::train::detail {
namespace {

std::string printf_string(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a);
  return buf;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = int64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                  (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

bool Progress::is_tty(std::FILE* out) { return out && ::isatty(::fileno(out)) == 1; }

double Progress::elapsed() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void Progress::begin_epoch(int epoch, int epochs, int64_t total) {
  epoch_ = epoch;
  epochs_ = epochs;
  total_ = total;
  start_ = Clock::now();
  last_draw_ = -1;
  last_decile_ = 0;
}

std::string Progress::line(int64_t done, double mean_loss, double secs) const {
  const double rate = secs > 0 ? double(done) / secs : 0;
  const double eta = rate > 0 ? double(total_ - done) / rate : NAN;
  std::string s = "epoch " + std::to_string(epoch_) + "/" + std::to_string(epochs_) + " ";
  s += printf_string("%3.0f%% ", total_ ? 100.0 * double(done) / double(total_) : 100.0);
  s += std::to_string(done) + "/" + std::to_string(total_);
  s += printf_string("  %.1f it/s", rate);
  s += printf_string("  loss %.4f", mean_loss);
  s += "  ETA " + format_duration(eta);
  return s;
}

void Progress::update(int64_t done, double mean_loss) {
  if (!out_) return;
  const double secs = elapsed();
  if (tty_) {
    // Redraw at most ten times a second: terminals are slow and the loop is not.
    if (last_draw_ >= 0 && secs - last_draw_ < 0.1 && done < total_) return;
    last_draw_ = secs;
    constexpr int kWidth = 24;
    const int filled = total_ ? int(kWidth * done / total_) : kWidth;
    std::string bar(size_t(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(size_t(kWidth - filled - 1), ' ');
    std::fprintf(out_, "\r%s [%s]\033[K", line(done, mean_loss, secs).c_str(), bar.c_str());
    std::fflush(out_);
    return;
  }
  const int decile = total_ ? int(10 * done / total_) : 10;
  if (decile > last_decile_ && done < total_ && secs - std::max(last_draw_, 0.0) >= plain_interval_) {
    last_decile_ = decile;
    last_draw_ = secs;
    std::fprintf(out_, "%s\n", line(done, mean_loss, secs).c_str());
    std::fflush(out_);
  }
}

void Progress::end_epoch(int64_t done, double mean_loss, double metric, bool best,
                         double train_seconds, double seconds, bool out_of_time) {
  if (!out_) return;
  if (tty_) std::fputs("\r\033[K", out_);
  std::string s = "epoch " + std::to_string(epoch_) + "/" + std::to_string(epochs_) + ": " +
                  std::to_string(done) + " examples in " + format_duration(seconds);
  s += printf_string(" (%.1f it/s)", train_seconds > 0 ? double(done) / train_seconds : 0.0);
  s += printf_string("  loss %.4f", mean_loss);
  if (!std::isnan(metric)) s += printf_string("  metric %.4f", metric);
  if (best) s += "  (best)";
  if (out_of_time) s += "  [time budget reached]";
  std::fprintf(out_, "%s\n", s.c_str());
  std::fflush(out_);
}

}  // namespace flare::train::detail
