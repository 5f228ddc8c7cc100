#pragma once
/// Named tensors in the safetensors format, readable by PyTorch/NumPy tooling:
/// 8-byte little-endian header length N, N bytes of JSON header
/// `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
///   "__metadata__": {"key": "value"}}`, then the raw little-endian data (offsets are relative
/// to its start).
///
/// Batch: a flare tensor with batch B > 1 is stored with shape [B, dims...]; a batch-1 tensor
/// with its dims only. On load, a 5-dimensional entry is read as batch = its first dimension
/// (flare keeps at most 4 dims per example); anything of rank <= 4 loads with batch 1.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "flare/tensor.h"

namespace flare::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

/// An integer entry (dtypes I8, I16, I32, I64, U8, U16, U32, BOOL), widened to int64.
struct IntArray {
  std::vector<int64_t> shape;
  std::vector<int64_t> values;  // row-major, product(shape) of them
};

struct SafetensorsFile {
  /// Floating-point entries in the order of their data in the file. F32 and F64 load as
  /// float32/float64 CPU tensors; F16 and BF16 are widened to float32.
  NamedTensors tensors;
  /// Integer entries, same order rule.
  std::vector<std::pair<std::string, IntArray>> int_tensors;
  Metadata metadata;

  /// The floating-point entry `name`, or nullptr.
  const Tensor* find(const std::string& name) const;
  /// The floating-point entry `name`; throws IndexError listing the names present.
  const Tensor& at(const std::string& name) const;
};

/// The bytes of a safetensors file holding `tensors` (F32/F64, in the given order) and
/// `metadata`. Throws flare::Error for a repeated or reserved (`__metadata__`) name, an
/// undefined tensor, or a name that is not valid UTF-8.
std::vector<uint8_t> serialize_safetensors(const NamedTensors& tensors,
                                           const Metadata& metadata = {});

/// Writes serialize_safetensors(...) to `path` atomically: the bytes go to a temporary file in
/// the same directory, which is fsynced and then renamed over `path`, so `path` never holds a
/// partial file. Throws IoError naming the path and the OS's reason on failure.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});

/// Reads and validates a whole file. Throws IoError `path: what is wrong` for anything
/// malformed: too short, header length past the end, header not a JSON object, an entry with
/// a missing or invalid dtype/shape/data_offsets, an unsupported dtype, more than 5 dims, a
/// zero-sized dimension in a floating-point entry (flare has no empty tensors), a byte
/// count that disagrees with dtype and shape, offsets that overlap, leave gaps or run past the
/// data, data left over after the last tensor, or a non-string metadata value.
SafetensorsFile load_safetensors(const std::string& path);
/// The same checks on bytes in memory (errors name `name`); never reads outside [data, data+n).
SafetensorsFile parse_safetensors(const uint8_t* data, size_t n,
                                  const std::string& name = "<buffer>");

}  // namespace flare::io
