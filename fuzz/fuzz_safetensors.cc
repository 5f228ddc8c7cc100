// parse_safetensors on arbitrary bytes. Accepted input must hold tensors whose byte sizes fit
// their shapes, and survive a round trip: serialize_safetensors() of its floating-point tensors
// and metadata parses back to the same names, shapes, dtypes, bits and metadata.
#include <cstring>
#include <string>
#include <vector>

#include "flare/io/safetensors.h"
#include "fuzz_util.h"

using flare::fuzz::accepted;
using flare::fuzz::check;
using flare::io::SafetensorsFile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* target = "fuzz_safetensors";
  SafetensorsFile f;
  if (!accepted(target, [&] { f = flare::io::parse_safetensors(data, size, flare::fuzz::kInputName); }))
    return 0;
  size_t bytes = 0;
  for (const auto& [name, t] : f.tensors) {
    check(t.defined() && t.device().is_cpu() && t.shape().total() > 0, target,
          "tensor " + name + " is undefined, empty or not on the CPU");
    bytes += t.bytes();
  }
  for (const auto& [name, a] : f.int_tensors) {
    size_t n = 1;
    for (int64_t d : a.shape) n *= size_t(d);
    check(a.values.size() == n, target, "integer tensor " + name + " has the wrong value count");
  }
  // Widened F16/BF16 entries take more room in memory than in the file, never less.
  check(bytes <= size * 2, target, "tensors hold more bytes than the input could");

  std::vector<uint8_t> out;
  try {
    out = flare::io::serialize_safetensors(f.tensors, f.metadata);
  } catch (const flare::Error& e) {
    flare::fuzz::finding(target, std::string("round trip: serialize rejected what parse accepted: ") + e.what());
  }
  SafetensorsFile again;
  if (!accepted(target, [&] { again = flare::io::parse_safetensors(out.data(), out.size(), flare::fuzz::kInputName); }))
    flare::fuzz::finding(target, "round trip: the serialized form was rejected");
  check(again.int_tensors.empty(), target, "integer tensors appeared");
  check(again.metadata == f.metadata, target, "metadata changed");
  check(again.tensors.size() == f.tensors.size(), target, "tensor count changed");
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    const auto& [n1, t1] = f.tensors[i];
    const auto& [n2, t2] = again.tensors[i];
    check(n1 == n2, target, "name or order changed: " + n1 + " vs " + n2);
    check(t1.shape() == t2.shape() && t1.dtype() == t2.dtype(), target, "shape or dtype of " + n1 + " changed");
    check(std::memcmp(t1.data(), t2.data(), t1.bytes()) == 0, target, "bits of " + n1 + " changed");
  }
  return 0;
}
