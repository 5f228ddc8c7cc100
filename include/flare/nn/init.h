#pragma once
/// Parameter initialisers. Values are drawn on the host from a counter-based stream, so the same
/// (initialiser, shape, seed) gives the same numbers on every run and device. Models derive each
/// parameter's seed from their own seed (flare::seed() when the model was made) and the
/// parameter's full name, so adding a parameter does not change the values of the others.
///
/// Fans follow PyTorch: a weight [out, in] (y = W x) has fan_in = in and fan_out = out; for more
/// dims both are multiplied by the product of dims 2.. (the receptive field).
#include <cstdint>
#include <string>
#include <vector>

#include "flare/parameter.h"
#include "flare/shape.h"

namespace flare::nn {

struct Init {
  enum class Kind : uint8_t { constant, uniform, normal, glorot_uniform, glorot_normal, orthogonal };
  Kind kind = Kind::glorot_uniform;
  /// constant: a. uniform: [a, b). normal: mean a, stddev b. glorot_*, orthogonal: gain a.
  double a = 1.0, b = 0.0;

  static Init zeros() { return {Kind::constant, 0.0, 0.0}; }
  static Init ones() { return {Kind::constant, 1.0, 0.0}; }
  static Init constant(double v) { return {Kind::constant, v, 0.0}; }
  static Init uniform(double lo, double hi) { return {Kind::uniform, lo, hi}; }
  static Init normal(double mean, double stddev) { return {Kind::normal, mean, stddev}; }
  /// U(-r, r) with r = gain * sqrt(6 / (fan_in + fan_out)); needs at least 2 dims.
  static Init glorot_uniform(double gain = 1.0) { return {Kind::glorot_uniform, gain, 0.0}; }
  /// N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)); needs at least 2 dims.
  static Init glorot_normal(double gain = 1.0) { return {Kind::glorot_normal, gain, 0.0}; }
  /// gain * a matrix with orthonormal rows or columns (whichever are fewer), from the QR of a
  /// Gaussian matrix (signs fixed as PyTorch does). The shape is seen as [dim0, rest].
  static Init orthogonal(double gain = 1.0) { return {Kind::orthogonal, gain, 0.0}; }

  /// E.g. "glorot_uniform(gain=1)".
  std::string str() const;
};

struct Fans {
  int64_t in = 0, out = 0;
};
/// PyTorch's fans of a weight of at least 2 dims; throws flare::Error for fewer.
Fans fans(const Shape& s);

/// The values of `init` for a tensor of shape s (batch included), row-major, from `seed`.
/// Throws flare::Error naming the initialiser and shape when it does not apply to that shape.
std::vector<double> sample(const Init& init, const Shape& s, uint64_t seed);

/// A seed for one named parameter: a mix of the model's seed and a hash of the name.
uint64_t name_seed(uint64_t seed, const std::string& name);

/// Overwrites p's value with sample(init, p.shape(), seed); errors name the parameter.
void initialize(Parameter& p, const Init& init, uint64_t seed);

}  // namespace flare::nn
