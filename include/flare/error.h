#pragma once
/// flare's exceptions. Every user mistake throws one of these; nothing aborts on user input.
#include <stdexcept>
#include <string>

namespace flare {

/// Base of every error flare throws.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// Shapes of an op's inputs do not fit its rule. The message names the op and every input
/// shape with its batch size, e.g. `matmul: a.cols (3) != b.rows (4); got a=[2,3] b=[4]x8`.
class ShapeError : public Error {
 public:
  explicit ShapeError(const std::string& what) : Error(what) {}
};

/// An index (lookup id, pick index, slice bound) is out of range; the message names it and the bound.
class IndexError : public Error {
 public:
  explicit IndexError(const std::string& what) : Error(what) {}
};

/// A file could not be read or written, or its contents are malformed; names the file (and line).
class IoError : public Error {
 public:
  explicit IoError(const std::string& what) : Error(what) {}
};

/// A value or gradient became NaN or infinite while anomaly detection was on.
class AnomalyError : public Error {
 public:
  explicit AnomalyError(const std::string& what) : Error(what) {}
};

}  // namespace flare
