#pragma once
/// Pre-trained word vectors from text files: GloVe (`word v1 ... vd` per line) or word2vec's
/// text format (the same after a first line `count dim`). The format is detected from the first
/// non-blank line: exactly two fields that are both integers mean word2vec.
#include <cstdint>
#include <istream>
#include <string>

#include "flare/io/vocab.h"
#include "flare/tensor.h"

namespace flare::io {

enum class EmbeddingFormat { glove, word2vec };

struct EmbeddingOptions {
  /// How the unknown word's row (id 0) is filled when the file has no vector for it.
  enum class Unknown { zeros, mean };
  Unknown unknown = Unknown::zeros;
  /// Scale every row to unit L2 norm (all-zero rows stay zero). Done after the mean is taken.
  bool normalize = false;
  /// When set, the result's vocabulary is a copy of this one (same ids) and only its words are
  /// kept; its words missing from the file get the unknown row. Must outlive the call.
  const Vocabulary* restrict_to = nullptr;
  /// The unknown token when restrict_to is not set. A vector for this word in the file fills id 0.
  std::string unk = Vocabulary::kDefaultUnk;
};

struct Embeddings {
  /// Frozen; id 0 is the unknown token (unless restrict_to had none).
  Vocabulary vocab;
  /// [vocab.size(), dim], float32, on the CPU; row i is the vector of vocab.word(i).
  Tensor vectors;
  EmbeddingFormat format = EmbeddingFormat::glove;
  /// Vocabulary entries that got a vector from the file (the unknown row counts only when the
  /// file had one for it).
  int64_t found = 0;
};

/// Parses vectors from `in`. Throws IoError `name:LINE: what` for a line with the wrong number of
/// values (the dimension is the header's, or the first line's for GloVe), a value that is not a
/// finite number, a bad word2vec header, or a word2vec count that does not match the lines.
/// A word seen again keeps its first vector. Throws IoError `name: ...` when there are no vectors.
Embeddings parse_embeddings(std::istream& in, const std::string& name = "<stream>",
                            const EmbeddingOptions& options = {});
Embeddings parse_embeddings(const std::string& text, const std::string& name = "<string>",
                            const EmbeddingOptions& options = {});
Embeddings load_embeddings(const std::string& path, const EmbeddingOptions& options = {});

}  // namespace flare::io
