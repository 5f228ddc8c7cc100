// Autobatch's public face and AutobatchScope. The work is in autobatch_schedule.cc,
// autobatch_forward.cc and autobatch_backward.cc.
#include "exec/autobatch_impl.h"

namespace flare {

Autobatch::Autobatch(const AutobatchOptions& o) : impl_(std::make_unique<Impl>(o)) {}
Autobatch::~Autobatch() = default;

void Autobatch::forward(Graph& g, uint32_t begin, uint32_t end) { impl_->forward(g, begin, end); }

void Autobatch::backward(Graph& g, uint32_t root, const std::vector<uint8_t>& reach) {
  impl_->backward(g, root, reach);
}

const AutobatchOptions& Autobatch::options() const { return impl_->opt; }
const AutobatchStats& Autobatch::stats() const { return impl_->stats; }
void Autobatch::reset_stats() { impl_->stats = AutobatchStats{}; }

AutobatchScope::AutobatchScope(Graph& g, const AutobatchOptions& o)
    : g_(&g), prev_(g.executor()), ab_(std::make_unique<Autobatch>(o)) {
  g.set_executor(ab_.get());
}

void AutobatchScope::close() {
  if (!open_) return;
  g_->set_executor(prev_);  // computes what is pending first
  open_ = false;
}

AutobatchScope::~AutobatchScope() {
  try {
    close();
  } catch (...) {
    // The graph still points at our executor: keep it alive rather than leave a dangling one.
    (void)ab_.release();
  }
}

}  // namespace flare
