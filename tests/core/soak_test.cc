// A short soak: 20,000 graphs built, trained on (Adam, sparse embedding) and discarded. The
// graph's arena must stop growing after the first graphs, and resident memory after 2,000
// graphs must equal that after 20,000 within a small tolerance (nothing leaks, memory is
// reused). bench/bench_soak runs the same for a million graphs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim/adam.h"

namespace {
using namespace flare;

long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // freed memory sits in a quarantine: RSS is not a signal
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

TEST(Soak, TwentyThousandGraphsKeepMemoryFlat) {
  const int vocab = 500, dim = 16, classes = 5;
  nn::Model model;
  nn::Embedding embed(model, vocab, dim, nn::EmbeddingOptions{true, {}});
  nn::Linear layer(model, dim, 32, {}, "hidden"), out(model, 32, classes, {}, "out");
  optim::Adam opt(model.parameters(), optim::AdamOptions(1e-2));
  Graph g;
  std::vector<int32_t> ids(5);
  uint64_t state = 7;
  auto next = [&] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  const int graphs = kSanitized ? 4000 : 20000, first = graphs / 10;
  long rss_first = 0, rss_last = 0;
  size_t arena_first = 0;
  double first_losses = 0, last_losses = 0;
  for (int i = 1; i <= graphs; ++i) {
    // Word w belongs to class w % classes and an example's words all share its class, so the
    // model can learn the task: the loss must fall.
    const int32_t label = int32_t(next() % classes);
    for (int32_t& id : ids) id = label + classes * int32_t(next() % 10);
    g.clear();
    Expr loss = pick_neg_log_softmax(out(tanh(layer(sum_batch(embed.forward(g, ids))))), label);
    if (i <= 1000) first_losses += loss.item();
    if (i > graphs - 1000) last_losses += loss.item();
    opt.zero_grad();
    g.backward(loss);
    opt.step();
    if (i == first) {
      rss_first = rss_kib();
      arena_first = g.arena_capacity();
    }
  }
  rss_last = rss_kib();
  EXPECT_EQ(g.arena_capacity(), arena_first) << "the arena grew after graph " << first;
  // The graphs did real work: training lowered the loss.
  EXPECT_LT(last_losses, 0.5 * first_losses);
  if (kSanitized) GTEST_SKIP() << "RSS not compared under a sanitizer (quarantined memory)";
  EXPECT_LE(rss_last - rss_first, 512) << "RSS after " << first << " graphs: " << rss_first
                                       << " KiB, after " << graphs << ": " << rss_last << " KiB";
}

}  // namespace
