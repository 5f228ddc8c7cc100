#pragma once
// Adam's deferred row steps (AdamOptions::defer_untouched_rows): the zero-gradient steps of a
// row-gradient table's untouched rows, kept pending and applied later, many per row at once.
#include <cstdint>
#include <mutex>
#include <vector>

#include "flare/backend.h"
#include "flare/parameter.h"

namespace flare::optim {

class DeferredAdamRows final : public Parameter::Deferred {
 public:
  // At most this many steps stay pending; then every row is settled. Bounds the history and
  // the work a lookup of a long-unused row can meet.
  static constexpr int32_t kMaxPending = 256;

  // `state` is the optimizer's m and v for `p` (read at each settle: they may be reallocated).
  // Installs itself on `p`; the destructor settles every row and removes itself.
  DeferredAdamRows(Parameter& p, std::vector<Tensor>& state);
  ~DeferredAdamRows() override;
  DeferredAdamRows(const DeferredAdamRows&) = delete;
  DeferredAdamRows& operator=(const DeferredAdamRows&) = delete;

  // One Adam step: the rows with a gradient (p's touched rows) are updated now, the others'
  // step is recorded as pending.
  void step(const AdamStep& s);

  void settle_rows(const int32_t* ids, int64_t n) override;
  void settle_all() override;
  void forget_parameter() override;
  // Steps pending for the row (for tests).
  int32_t pending(int64_t row) const;

 private:
  void settle_row(int64_t row);  // mu_ held
  void settle_every_row();       // mu_ held
  char* row_ptr(Tensor& t, int64_t row) const;

  Parameter* p_;  // null once the parameter is destroyed (forget_parameter)
  std::vector<Tensor>& state_;
  int64_t rows_, row_;
  std::vector<int32_t> done_;      // per row: how many of history_'s steps it has had
  std::vector<AdamStep> history_;  // the steps since every row was last current
  mutable std::mutex mu_;
};

}  // namespace flare::optim
