#include "flare/io/embeddings.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string_view>
#include <vector>

#include "flare/error.h"
#include "io/text_util.h"

namespace flare::io {
namespace {

constexpr int64_t kMaxDim = int64_t(1) << 20;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Walks the whitespace-separated fields of one line without allocating per field (GloVe files
// have hundreds of thousands of 300-value lines).
class Fields {
 public:
  explicit Fields(std::string_view s) : s_(s) {}
  bool next(std::string_view* f) {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
    if (pos_ >= s_.size()) return false;
    size_t b = pos_;
    while (pos_ < s_.size() && !is_space(s_[pos_])) ++pos_;
    *f = s_.substr(b, pos_ - b);
    return true;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool parse_count(std::string_view s, int64_t* out) {
  if (s.empty() || s[0] == '-' || s[0] == '+') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

class Loader {
 public:
  Loader(const std::string& name, const EmbeddingOptions& o) : name_(name), opt_(o) {}

  Embeddings run(std::istream& in) {
    detail::for_each_line(in, [&](const std::string& line, int64_t n) {
      if (!detail::is_blank(line)) this->line(line, n);
    });
    if (in.bad()) throw IoError(name_ + ": read failed");
    return finish();
  }

 private:
  void line(std::string_view s, int64_t n) {
    if (dim_ == 0) {
      if (header(s, n)) return;
    }
    Fields f(s);
    std::string_view word;
    f.next(&word);
    if (format_ == EmbeddingFormat::word2vec && ++lines_ > expected_)
      detail::fail_at(name_, n,
                      "more vectors than the header's count " + std::to_string(expected_));
    row_.clear();
    std::string_view v;
    while (f.next(&v)) {
      float x = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), x);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(x))
        detail::fail_at(name_, n,
                        "value " + std::to_string(row_.size() + 1) + " of " + detail::quote(word) +
                            " is not a finite number: " + detail::quote(v));
      row_.push_back(x);
    }
    if (dim_ == 0) {
      if (row_.empty()) detail::fail_at(name_, n, "word " + detail::quote(word) + " has no values");
      dim_ = int64_t(row_.size());
      start();
    }
    if (int64_t(row_.size()) != dim_)
      detail::fail_at(name_, n,
                      "expected " + std::to_string(dim_) + " values after " + detail::quote(word) +
                          ", got " + std::to_string(row_.size()));
    store(std::string(word));
  }

  // Recognises a word2vec header `count dim`; false for a GloVe line.
  bool header(std::string_view s, int64_t n) {
    Fields f(s);
    std::string_view a, b, c;
    if (!f.next(&a) || !f.next(&b) || f.next(&c)) return false;
    int64_t count = 0, dim = 0;
    if (!parse_count(a, &count) || !parse_count(b, &dim)) return false;
    if (dim < 1) detail::fail_at(name_, n, "word2vec header gives dimension 0");
    // A hostile header must not make us allocate absurd buffers before any vector is read.
    if (dim > kMaxDim)
      detail::fail_at(name_, n,
                      "word2vec header gives dimension " + std::to_string(dim) + ", more than " +
                          std::to_string(kMaxDim));
    format_ = EmbeddingFormat::word2vec;
    expected_ = count;
    dim_ = dim;
    start();
    return true;
  }

  void start() {
    sum_.assign(size_t(dim_), 0.0);
    if (opt_.restrict_to != nullptr) {
      vocab_ = *opt_.restrict_to;
      vocab_.freeze();
      filled_.assign(size_t(vocab_.size()), false);
      data_.assign(size_t(vocab_.size() * dim_), 0.f);
    } else {
      vocab_ = Vocabulary(opt_.unk);
      filled_.assign(1, false);
      data_.assign(size_t(dim_), 0.f);
    }
  }

  void store(const std::string& word) {
    for (int64_t j = 0; j < dim_; ++j) sum_[j] += row_[j];
    ++vectors_;
    int32_t id = -1;
    if (vocab_.contains(word)) {
      id = vocab_.id(word);
      if (filled_[id]) return;  // repeated word: the first vector wins
    } else if (opt_.restrict_to == nullptr) {
      id = vocab_.add(word, 0);
      filled_.push_back(false);
      data_.resize(data_.size() + size_t(dim_));
    } else {
      return;
    }
    std::copy(row_.begin(), row_.end(), data_.begin() + id * dim_);
    filled_[id] = true;
    ++found_;
  }

  Embeddings finish() {
    if (vectors_ == 0) throw IoError(name_ + ": no word vectors found");
    if (format_ == EmbeddingFormat::word2vec && lines_ != expected_)
      throw IoError(name_ + ": word2vec header promises " + std::to_string(expected_) +
                    " vectors but the file has " + std::to_string(lines_));
    for (size_t i = 0; i < filled_.size(); ++i) {
      if (filled_[i]) continue;
      for (int64_t j = 0; j < dim_; ++j)
        data_[i * dim_ + j] = opt_.unknown == EmbeddingOptions::Unknown::mean
                                  ? float(sum_[j] / double(vectors_))
                                  : 0.f;
    }
    if (opt_.normalize) {
      for (size_t i = 0; i < filled_.size(); ++i) {
        float* r = data_.data() + i * dim_;
        double ss = 0;
        for (int64_t j = 0; j < dim_; ++j) ss += double(r[j]) * r[j];
        if (ss == 0) continue;
        const double inv = 1.0 / std::sqrt(ss);
        for (int64_t j = 0; j < dim_; ++j) r[j] = float(r[j] * inv);
      }
    }
    vocab_.freeze();
    Embeddings e;
    const int64_t v = vocab_.size();
    // Straight copy: Tensor::from would widen the whole table to doubles first.
    e.vectors = Tensor::empty(Shape({v, dim_}), DType::f32);
    std::memcpy(e.vectors.data(), data_.data(), data_.size() * sizeof(float));
    e.vocab = std::move(vocab_);
    e.format = format_;
    e.found = found_;
    return e;
  }

  const std::string& name_;
  const EmbeddingOptions& opt_;
  EmbeddingFormat format_ = EmbeddingFormat::glove;
  int64_t dim_ = 0;
  int64_t expected_ = 0;  // word2vec header count
  int64_t lines_ = 0;     // word2vec vector lines seen
  int64_t vectors_ = 0;   // valid vector lines seen
  int64_t found_ = 0;
  Vocabulary vocab_;
  std::vector<bool> filled_;
  std::vector<float> data_;
  std::vector<float> row_;
  std::vector<double> sum_;
};

}  // namespace

Embeddings parse_embeddings(std::istream& in, const std::string& name,
                            const EmbeddingOptions& options) {
  return Loader(name, options).run(in);
}

Embeddings parse_embeddings(const std::string& text, const std::string& name,
                            const EmbeddingOptions& options) {
  std::istringstream in(text);
  return parse_embeddings(in, name, options);
}

Embeddings load_embeddings(const std::string& path, const EmbeddingOptions& options) {
  auto in = detail::open_input(path);
  return parse_embeddings(in, path, options);
}

}  // namespace flare::io
