// load_checkpoint on arbitrary bytes, into a model of two parameters (W [2,3], b [2]) and an
// Adam optimizer. A rejected file must change nothing (values, optimizer state, step, lr); an
// accepted one must leave the file's values in the model, and save_checkpoint() of the result
// must load back into a fresh model and optimizer bit for bit.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "flare/io/safetensors.h"
#include "flare/optim/adam.h"
#include "flare/train/checkpoint.h"
#include "fuzz_util.h"

using flare::Parameter;
using flare::Shape;
using flare::Tensor;
using flare::fuzz::check;

namespace {
const char* kTarget = "fuzz_checkpoint";

struct Model {
  Parameter w{"W", Tensor::full(Shape{2, 3}, 0.5)};
  Parameter b{"b", Tensor::full(Shape{2}, -0.25)};
  std::vector<Parameter*> params{&w, &b};
  flare::optim::Adam opt{params, flare::optim::AdamOptions().lr(0.01)};
};

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

// Everything a load could change, copied.
struct Snapshot {
  std::vector<Tensor> values, state;
  int64_t step;
  double lr;
  explicit Snapshot(Model& m) : step(m.opt.step_count()), lr(m.opt.lr()) {
    for (Parameter* p : m.params) values.push_back(p->value().clone());
    for (auto& [name, t] : m.opt.state().tensors) state.push_back(t.clone());
  }
  bool operator==(const Snapshot& o) const {
    if (step != o.step || lr != o.lr || values.size() != o.values.size() || state.size() != o.state.size())
      return false;
    for (size_t i = 0; i < values.size(); ++i)
      if (!same_bits(values[i], o.values[i])) return false;
    for (size_t i = 0; i < state.size(); ++i)
      if (!same_bits(state[i], o.state[i])) return false;
    return true;
  }
};

std::string scratch_dir() {
  static std::string dir = [] {
    std::string tmpl = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/flare-fuzz-XXXXXX");
    if (!mkdtemp(tmpl.data())) flare::fuzz::finding(kTarget, "cannot create a scratch directory");
    return tmpl;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The bytes become a file without touching the disk: a memory file opened through /proc.
  static const int fd = memfd_create("fuzz-checkpoint", 0);
  if (fd < 0) flare::fuzz::finding(kTarget, "memfd_create failed");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size))
    flare::fuzz::finding(kTarget, "cannot write the memory file");
  const std::string path = "/proc/self/fd/" + std::to_string(fd);

  Model m;
  const Snapshot before(m);
  flare::io::Metadata meta;
  const bool ok = flare::fuzz::accepted(
      kTarget, [&] { meta = flare::train::load_checkpoint(path, m.params, &m.opt); }, path);
  if (!ok) {
    check(Snapshot(m) == before, kTarget, "a rejected checkpoint changed the model or optimizer");
    return 0;
  }
  const flare::io::SafetensorsFile file = flare::io::parse_safetensors(data, size);
  for (Parameter* p : m.params)
    check(same_bits(p->value(), file.at(p->name())), kTarget, "loaded value of " + p->name() + " differs from the file");
  for (const auto& [k, v] : meta) check(k.rfind("flare.", 0) != 0, kTarget, "a reserved key was returned");

  const std::string saved = scratch_dir() + "/ckpt.safetensors";
  flare::train::save_checkpoint(saved, m.params, &m.opt, meta);
  Model fresh;
  const flare::io::Metadata meta2 = flare::train::load_checkpoint(saved, fresh.params, &fresh.opt);
  check(meta2 == meta, kTarget, "metadata changed");
  check(Snapshot(fresh) == Snapshot(m), kTarget, "save/load changed the model or optimizer");
  return 0;
}
