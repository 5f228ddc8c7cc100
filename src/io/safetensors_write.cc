#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "flare/error.h"
#include "flare/io/safetensors.h"
#include "io/atomic_file.h"
#include "io/text_util.h"

namespace flare::io {

std::vector<uint8_t> serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata) {
  using json = nlohmann::ordered_json;
  json header = json::object();
  if (!metadata.empty()) {
    json m = json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::unordered_set<std::string> seen;
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__")
      throw Error("save_safetensors: '__metadata__' is reserved and cannot name a tensor");
    if (!seen.insert(name).second)
      throw Error("save_safetensors: tensor name " + detail::quote(name) + " appears twice");
    if (!t.defined())
      throw Error("save_safetensors: tensor " + detail::quote(name) + " is undefined");
    host.push_back(t.device().is_cpu() ? t : t.to(Device::cpu()));
    const Shape& s = t.shape();
    json shape = json::array();
    if (s.batch() > 1) shape.push_back(s.batch());
    for (int i = 0; i < s.nd(); ++i) shape.push_back(s.dim(i));
    const uint64_t bytes = t.bytes();
    header[name] = {{"dtype", t.dtype() == DType::f32 ? "F32" : "F64"},
                    {"shape", std::move(shape)},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h;
  try {
    h = header.dump();
  } catch (const json::exception& e) {
    throw Error(std::string("save_safetensors: cannot encode the header: ") + e.what());
  }
  // Pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned, which lets
  // readers that map the file use the data in place.
  h.append((8 - h.size() % 8) % 8, ' ');

  std::vector<uint8_t> out(8 + h.size() + offset);
  uint64_t hlen = h.size();
  for (int i = 0; i < 8; ++i) out[i] = uint8_t(hlen >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  uint8_t* dst = out.data() + 8 + h.size();
  for (const Tensor& t : host) {
    if (t.bytes() != 0) std::memcpy(dst, t.data(), t.bytes());
    dst += t.bytes();
  }
  return out;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  const std::vector<uint8_t> bytes = serialize_safetensors(tensors, metadata);
  detail::write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace flare::io
