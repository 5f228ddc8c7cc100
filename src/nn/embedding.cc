#include "flare/nn/embedding.h"

#include <cmath>

#include "flare/error.h"
#include "flare/ops.h"

namespace flare::nn {

Embedding::Embedding(Model& m, int64_t vocab_size, int64_t dim, const EmbeddingOptions& o,
                     const std::string& name)
    : Module(m, name) {
  if (vocab_size < 1 || dim < 1)
    throw Error("Embedding " + path() + ": sizes must be positive; got vocab_size=" +
                std::to_string(vocab_size) + " dim=" + std::to_string(dim));
  const double r = std::sqrt(3.0 / double(dim));
  table_ = &add_parameter("E", Shape({vocab_size, dim}), o.init ? *o.init : Init::uniform(-r, r));
  table_->set_sparse(o.sparse);
  // A dense table's gradient comes through lookups: dense updates then read only touched rows.
  if (!o.sparse) table_->set_row_gradients(true);
  close_scope();
}

Embedding::Embedding(Model& m, const Tensor& values, bool trainable, bool sparse,
                     const std::string& name)
    : Module(m, name) {
  if (values.shape().nd() != 2)
    throw Error("Embedding " + path() + ": the table must be [V, dim]; got " + values.shape().str());
  table_ = &add_parameter("E", values, trainable);
  table_->set_sparse(sparse);
  if (trainable && !sparse) table_->set_row_gradients(true);
  close_scope();
}

Expr Embedding::forward(Graph& g, int32_t id) const { return lookup(g, *table_, id); }

Expr Embedding::forward(Graph& g, const std::vector<int32_t>& ids) const {
  return lookup(g, *table_, ids);
}

std::vector<Expr> Embedding::sequence(Graph& g, const std::vector<int32_t>& ids) const {
  std::vector<Expr> out;
  out.reserve(ids.size());
  Expr E = g.param(*table_);
  for (int32_t id : ids) out.push_back(lookup(E, id));
  return out;
}

std::vector<Expr> Embedding::sequence(Graph& g, const std::vector<std::vector<int32_t>>& ids) const {
  if (ids.empty()) throw Error("Embedding " + path() + ": sequence() got an empty batch");
  const size_t len = ids[0].size();
  for (size_t b = 1; b < ids.size(); ++b)
    if (ids[b].size() != len)
      throw Error("Embedding " + path() + ": sequences in a batch must have one length; sequence 0 has " +
                  std::to_string(len) + " ids, sequence " + std::to_string(b) + " has " +
                  std::to_string(ids[b].size()));
  std::vector<Expr> out;
  out.reserve(len);
  Expr E = g.param(*table_);
  std::vector<int32_t> column(ids.size());
  for (size_t t = 0; t < len; ++t) {
    for (size_t b = 0; b < ids.size(); ++b) column[b] = ids[b][t];
    out.push_back(lookup(E, column));
  }
  return out;
}

FixedEmbedding::FixedEmbedding(Model& m, const std::string& path, const FixedEmbeddingOptions& o,
                               const std::string& name)
    : FixedEmbedding(m, io::load_embeddings(path, o.io), o, name) {}

FixedEmbedding::FixedEmbedding(Model& m, io::Embeddings e, const FixedEmbeddingOptions& o,
                               const std::string& name)
    : Embedding(m, e.vectors, o.trainable, o.sparse, name), vocab_(std::move(e.vocab)), found_(e.found) {}

}  // namespace flare::nn
