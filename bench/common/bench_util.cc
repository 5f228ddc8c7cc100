#include "common/bench_util.h"

#include <sys/resource.h>

#include <iostream>

namespace flare::bench {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

void print_result(const nlohmann::json& j) { std::cout << j.dump() << std::endl; }

}  // namespace flare::bench
