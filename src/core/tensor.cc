#include "flare/tensor.h"

#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "flare/backend.h"
#include "flare/error.h"

namespace flare {

Tensor Tensor::empty(const Shape& s, DType t, Device d) {
  Tensor r;
  r.shape_ = s;
  r.dtype_ = t;
  r.device_ = d;
  size_t bytes = r.bytes();
  Backend* be = &backend(d);
  // Round up so that zero-sized tensors still get a distinct, valid pointer.
  size_t alloc = bytes ? bytes : 64;
  void* p = be->allocate(alloc);
  r.owner_ = std::shared_ptr<void>(p, [be, alloc](void* q) { be->deallocate(q, alloc); });
  r.data_ = p;
  return r;
}

Tensor Tensor::zeros(const Shape& s, DType t, Device d) { return full(s, 0.0, t, d); }

Tensor Tensor::full(const Shape& s, double value, DType t, Device d) {
  Tensor r = empty(s, t, d);
  r.fill(value);
  return r;
}

Tensor Tensor::from(const Shape& s, const std::vector<double>& values, DType t, Device d) {
  if (int64_t(values.size()) != s.total())
    throw ShapeError("tensor: " + std::to_string(values.size()) + " values for shape " + s.str() +
                     " (needs " + std::to_string(s.total()) + ")");
  Tensor host = empty(s, t, Device::cpu());
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* p = static_cast<T*>(host.data_);
    for (size_t i = 0; i < values.size(); ++i) p[i] = T(values[i]);
  });
  return d.is_cpu() ? host : host.to(d);
}

Tensor Tensor::from(const Shape& s, const std::vector<float>& values, Device d) {
  return from(s, std::vector<double>(values.begin(), values.end()), DType::f32, d);
}

Tensor Tensor::view(void* data, const Shape& s, DType t, Device d) {
  Tensor r;
  r.data_ = data;
  r.shape_ = s;
  r.dtype_ = t;
  r.device_ = d;
  return r;
}

template <typename T>
T* Tensor::data() const {
  if (dtype_of<T>::value != dtype_)
    throw Error(std::string("tensor: asked for ") + dtype_name(dtype_of<T>::value) +
                " data of a " + dtype_name(dtype_) + " tensor");
  return static_cast<T*>(data_);
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;

Tensor Tensor::reshape(const Shape& s) const {
  if (s.total() != shape_.total())
    throw ShapeError("reshape: " + shape_.str() + " has " + std::to_string(shape_.total()) +
                     " elements, " + s.str() + " has " + std::to_string(s.total()));
  Tensor r = *this;
  r.shape_ = s;
  return r;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  if (shape_.batch() != 1 || shape_.nd() < 1)
    throw ShapeError("rows: needs a batch-1 tensor with at least one dimension, got " + shape_.str());
  if (begin < 0 || end > shape_.dim(0) || begin > end)
    throw IndexError("rows: range [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") out of bounds for " + std::to_string(shape_.dim(0)) + " rows");
  Tensor r = *this;
  int64_t row = shape_.size() / (shape_.dim(0) ? shape_.dim(0) : 1);
  r.shape_ = shape_.with_dim(0, end - begin);
  r.data_ = static_cast<char*>(data_) + begin * row * dtype_size(dtype_);
  return r;
}

Tensor Tensor::batch_item(int64_t b) const {
  if (b < 0 || b >= shape_.batch())
    throw IndexError("batch_item: index " + std::to_string(b) + " out of range for batch " +
                     std::to_string(shape_.batch()));
  Tensor r = *this;
  r.shape_ = shape_.with_batch(1);
  r.data_ = static_cast<char*>(data_) + b * shape_.size() * dtype_size(dtype_);
  return r;
}

Tensor Tensor::clone() const {
  Tensor r = empty(shape_, dtype_, device_);
  r.copy_from(*this);
  return r;
}

Tensor Tensor::to(Device d) const {
  Tensor r = empty(shape_, dtype_, d);
  r.copy_from(*this);
  return r;
}

Tensor Tensor::to(DType t) const {
  Tensor r = empty(shape_, t, device_);
  r.copy_from(*this);
  return r;
}

void Tensor::copy_from(const Tensor& src) {
  if (src.shape_.total() != shape_.total())
    throw ShapeError("copy_from: source " + src.shape_.str() + " does not fit destination " +
                     shape_.str());
  if (src.dtype_ == dtype_) {
    size_t n = bytes();
    if (src.device_ == device_) {
      backend(device_).copy(dtype_, data_, src.data_, shape_.total());
    } else if (src.device_.is_cpu()) {
      backend(device_).from_host(data_, src.data_, n);
    } else if (device_.is_cpu()) {
      backend(src.device_).to_host(data_, src.data_, n);
    } else {
      Tensor host = src.to(Device::cpu());
      backend(device_).from_host(data_, host.data_, n);
    }
    return;
  }
  // Type conversion goes through the host; it is rare (checkpoints, tests).
  std::vector<double> v = src.to_vector();
  Tensor host = from(shape_, v, dtype_, Device::cpu());
  copy_from(host);
}

void Tensor::fill(double value) { backend(device_).fill(dtype_, data_, shape_.total(), value); }

std::vector<double> Tensor::to_vector() const {
  std::vector<double> out(size_t(shape_.total()));
  const void* p = data_;
  std::vector<char> host;
  if (!device_.is_cpu()) {
    host.resize(bytes());
    backend(device_).to_host(host.data(), data_, bytes());
    p = host.data();
  }
  dispatch_dtype(dtype_, [&](auto z) {
    using T = decltype(z);
    const T* q = static_cast<const T*>(p);
    for (size_t i = 0; i < out.size(); ++i) out[i] = double(q[i]);
  });
  return out;
}

double Tensor::at(int64_t i) const {
  if (i < 0 || i >= shape_.total())
    throw IndexError("tensor: index " + std::to_string(i) + " out of range for " +
                     std::to_string(shape_.total()) + " elements");
  if (device_.is_cpu())
    return dtype_ == DType::f32 ? double(static_cast<const float*>(data_)[i])
                                : static_cast<const double*>(data_)[i];
  return batch_item(0).reshape(Shape{shape_.total()}).to_vector()[size_t(i)];
}

double Tensor::item() const {
  if (shape_.total() != 1)
    throw ShapeError("item: needs a tensor with one element, got " + shape_.str());
  return at(0);
}

namespace {
void print_block(std::ostream& os, const std::vector<double>& v, const Shape& s, int64_t base,
                 int dim, int max_per_dim) {
  if (dim >= s.nd()) {
    os << v[size_t(base)];
    return;
  }
  int64_t n = s.dim(dim), stride = s.inner(dim);
  os << "[";
  for (int64_t i = 0; i < n; ++i) {
    if (i == max_per_dim / 2 && n > max_per_dim) {
      os << "..., ";
      i = n - max_per_dim / 2 - 1;
      continue;
    }
    if (i) os << ", ";
    print_block(os, v, s, base + i * stride, dim + 1, max_per_dim);
  }
  os << "]";
}
}  // namespace

std::string Tensor::str(int max_per_dim) const {
  std::ostringstream os;
  os << std::setprecision(6);
  std::vector<double> v = to_vector();
  Shape item = shape_.with_batch(1);
  if (shape_.batch() > 1) os << "{";
  for (int64_t b = 0; b < shape_.batch(); ++b) {
    if (b) os << ", ";
    print_block(os, v, item, b * item.size(), 0, max_per_dim);
  }
  if (shape_.batch() > 1) os << "}";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  return os << "tensor(" << t.str() << ", shape=" << t.shape().str() << ", "
            << dtype_name(t.dtype()) << (t.device().is_cpu() ? "" : ", " + t.device().str()) << ")";
}

std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

}  // namespace flare
