#pragma once
/// Embedding tables: trainable (Embedding) or loaded from GloVe / word2vec text (FixedEmbedding).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flare/io/embeddings.h"
#include "flare/io/vocab.h"
#include "flare/nn/module.h"

namespace flare::nn {

struct EmbeddingOptions {
  /// Record the rows each backward touches so that optimizers update only those rows. A dense
  /// table (false) records them too, so that its dense update reads only those rows' gradient
  /// (Parameter::row_gradients); every row is still updated.
  bool sparse = false;
  /// The table's initialiser; unset means U(-r, r) with r = sqrt(3 / dim), so each element has
  /// variance 1/dim and a vector has about unit norm.
  std::optional<Init> init;
};

/// A table E [vocab_size, dim] (named path/E); a lookup is one node (plus the parameter leaf).
class Embedding : public Module {
 public:
  Embedding(Model& m, int64_t vocab_size, int64_t dim, const EmbeddingOptions& o = {},
            const std::string& name = "embed");

  /// Row `id` -> [dim]. Throws IndexError for an id outside [0, vocab_size).
  Expr forward(Graph& g, int32_t id) const;
  /// One row per example -> [dim]xB, B = ids.size().
  Expr forward(Graph& g, const std::vector<int32_t>& ids) const;
  /// One [dim] node per id, sharing one parameter leaf (a sentence for a sequence model).
  std::vector<Expr> sequence(Graph& g, const std::vector<int32_t>& ids) const;
  /// A batch of equal-length sequences: ids[b][t] -> one [dim]xB node per position t.
  std::vector<Expr> sequence(Graph& g, const std::vector<std::vector<int32_t>>& ids) const;

  int64_t vocab_size() const { return table_->shape().dim(0); }
  int64_t dim() const { return table_->shape().dim(1); }
  Parameter& table() const { return *table_; }

 protected:
  /// A table holding a copy of `values` [V, dim].
  Embedding(Model& m, const Tensor& values, bool trainable, bool sparse, const std::string& name);

 private:
  Parameter* table_;
};

struct FixedEmbeddingOptions {
  /// How the file is read: unknown-word row, normalisation, restriction to a vocabulary.
  io::EmbeddingOptions io;
  /// Frozen by default (no gradient); true fine-tunes the vectors (then sparse applies).
  bool trainable = false;
  bool sparse = false;
};

/// Pre-trained vectors with their vocabulary. Id 0 is the unknown word (see io::Embeddings).
class FixedEmbedding : public Embedding {
 public:
  /// Reads a GloVe or word2vec text file; throws IoError naming the file and line.
  FixedEmbedding(Model& m, const std::string& path, const FixedEmbeddingOptions& o = {},
                 const std::string& name = "pretrained");
  /// Takes vectors already read (io::parse_embeddings).
  FixedEmbedding(Model& m, io::Embeddings e, const FixedEmbeddingOptions& o = {},
                 const std::string& name = "pretrained");

  const io::Vocabulary& vocab() const { return vocab_; }
  /// The word's id (the unknown id for an unseen word, when the vocabulary has one).
  int32_t id(const std::string& word) const { return vocab_.id(word); }
  using Embedding::forward;
  /// The word's vector -> [dim].
  Expr forward(Graph& g, const std::string& word) const { return forward(g, id(word)); }
  /// Vectors found in the file (see io::Embeddings::found).
  int64_t found() const { return found_; }

 private:
  io::Vocabulary vocab_;
  int64_t found_;
};

}  // namespace flare::nn
