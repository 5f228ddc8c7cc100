// Default optimizer kernels for backends that do not have them yet: they say so instead of
// leaving the whole backend abstract.
#include "flare/backend.h"
#include "flare/error.h"

namespace flare {
namespace {

[[noreturn]] void unsupported(const Backend& be, const char* kernel) {
  throw Error("device " + be.device().str() + ": its backend has no " + kernel +
              " kernel yet, so flare::optim cannot update parameters there");
}

}  // namespace

void Backend::sgd_update(DType, void*, const void*, void*, UpdateRange, SgdStep) {
  unsupported(*this, "sgd_update");
}
void Backend::adagrad_update(DType, void*, const void*, void*, UpdateRange, AdagradStep) {
  unsupported(*this, "adagrad_update");
}
void Backend::adadelta_update(DType, void*, const void*, void*, void*, UpdateRange, AdadeltaStep) {
  unsupported(*this, "adadelta_update");
}
void Backend::adam_update(DType, void*, const void*, void*, void*, UpdateRange, AdamStep) {
  unsupported(*this, "adam_update");
}
void Backend::adam_idle_steps(DType, void*, void*, void*, int64_t, const AdamStep*, int64_t) {
  unsupported(*this, "adam_idle_steps");
}
double Backend::sum_squares(DType, const void*, UpdateRange) { unsupported(*this, "sum_squares"); }
void Backend::scale(DType, void*, UpdateRange, double) { unsupported(*this, "scale"); }

}  // namespace flare
