#pragma once
// The op sweep's machinery: samples of every op (good and bad inputs) and a float64
// finite-difference gradient check.
#include <functional>
#include <string>
#include <vector>

#include "flare/flare.h"

namespace flare::testing {

/// One argument of a sample: its shape and the range its random values come from.
struct ArgSpec {
  Shape shape;
  double lo = -1.0, hi = 1.0;
};

using Build = std::function<Expr(const std::vector<Expr>&)>;

/// A good input: the sweep checks shapes, forward coverage and gradients.
struct OpSample {
  std::string name;
  OpId op;  // OpId::Count for composites (functions over ops with no backward of their own)
  std::vector<ArgSpec> args;
  Build build;
};

/// A bad input: building it must throw an error whose message contains `expect`.
struct BadSample {
  std::string name;
  OpId op;
  std::vector<Shape> shapes;
  Build build;
  std::string expect;
};

const std::vector<OpSample>& op_samples();
const std::vector<BadSample>& bad_samples();

struct GradcheckResult {
  bool ok = true;
  double max_error = 0;  // largest |analytic - numeric| / (1 + |numeric|)
  std::string detail;
};

/// Builds the sample on float64 parameters with seeded random values, then compares the
/// gradient of sum(y * R) (R random) against central finite differences.
GradcheckResult gradcheck(const OpSample& s, uint64_t seed = 1, double tolerance = 1e-6);

/// Random float64 values in [lo, hi], kept 0.05 away from 0 so kinks (relu, abs) are not hit.
std::vector<double> random_values(const ArgSpec& a, uint64_t seed);

}  // namespace flare::testing
