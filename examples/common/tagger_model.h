#pragma once
// The tagger example's model (also bench_bilstm_tagger's), after the DyNet benchmark's
// bilstm-tagger and bilstm-tagger-withchar: a word is a word embedding, or, with `chars`, a
// rare word (seen at most rare_max times in training, or never) is the concatenated final
// states of a forward and a backward LSTM over its characters. A BiLSTM reads the sentence;
// at each position [h_fwd; h_bwd] -> tanh(linear) -> linear -> tag scores. Loss summed over
// the tokens.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flare/flare.h"
#include "flare/io/datasets.h"
#include "flare/io/vocab.h"
#include "flare/nn/nn.h"

namespace flare::examples {

struct TaggerConfig {
  int64_t embed = 128;
  int64_t hidden = 50;      ///< per direction
  int64_t mlp = 32;
  bool chars = false;
  int64_t char_embed = 20;
  int64_t char_hidden = 64; ///< per direction; 2 * char_hidden must equal embed
  int64_t rare_max = 5;
  bool sparse = true;
  /// Eagerly, run a sentence's rare words through the char BiLSTM as one batch per character
  /// position (nn::run_packed), as the PyTorch benchmark packs them; false runs one char BiLSTM
  /// per word, the form the auto-batcher always gets. The same function either way (an
  /// ablation for the benchmarks), so it is not saved with the model.
  bool pack_chars = true;

  nlohmann::json to_json() const;
  static TaggerConfig from_json(const nlohmann::json& j);
};

/// The vocabularies a tagger needs: words (with <unk>), characters (with <unk>; empty without
/// `chars`), and the closed tag set (no unknown).
struct TaggerVocabs {
  io::Vocabulary words;
  io::Vocabulary chars;
  io::Vocabulary tags = io::Vocabulary::without_unk();
};

/// Words of the training sentences in first-seen order (only those seen more than rare_max
/// times with `chars`); characters of the training words; every tag of `all` (training and
/// held-out data), sorted.
TaggerVocabs build_tagger_vocabs(const std::vector<io::TaggedSentence>& train,
                                 const std::vector<io::TaggedSentence>& all, const TaggerConfig& c);

struct TaggedExample {
  /// Word id per position, or -1 for a rare word (which then has its characters in `chars`).
  std::vector<int32_t> words;
  std::vector<std::vector<int32_t>> chars;
  /// Tag id per position; -1 for a tag the model does not know (always counted wrong).
  std::vector<int32_t> tags;
};

/// Throws IoError `path:LINE: ...` for a word that is not valid UTF-8 (with `chars`), or an
/// unknown tag when `known_tags_only` (training data).
std::vector<TaggedExample> prepare_tagged(const std::vector<io::TaggedSentence>& data, const TaggerVocabs& v,
                                          const TaggerConfig& c, const std::string& path, bool known_tags_only);

class TaggerModel : public nn::Module {
 public:
  TaggerModel(nn::Model& m, const TaggerVocabs& v, const TaggerConfig& c);

  /// Tag scores [positions, tags].
  Expr scores(Graph& g, const TaggedExample& ex) const;
  Expr loss(Graph& g, const TaggedExample& ex) const;
  std::vector<int32_t> predict(Graph& g, const TaggedExample& ex) const;

  const TaggerConfig& config() const { return c_; }

 private:
  /// One vector per position: the word's embedding, or for a rare word its char BiLSTM's final
  /// states.
  std::vector<Expr> word_vectors(Graph& g, const TaggedExample& ex) const;
  /// The char BiLSTM's [fwd; bwd] final states of each rare word at `positions` of ex.
  std::vector<Expr> char_vectors(const Expr& char_table, const TaggedExample& ex,
                                 const std::vector<size_t>& positions) const;

  TaggerConfig c_;
  nn::Embedding embed_;
  std::unique_ptr<nn::Embedding> char_embed_;
  std::unique_ptr<nn::LSTMCell> char_fwd_, char_bwd_;
  nn::RNN rnn_;
  nn::Linear hidden_, out_;
};

/// Token accuracy over `data`.
double tagger_accuracy(const TaggerModel& model, const std::vector<TaggedExample>& data);

}  // namespace flare::examples
