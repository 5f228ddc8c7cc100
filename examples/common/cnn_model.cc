#include "common/cnn_model.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/text.h"
#include "flare/conv.h"

namespace flare::examples {

namespace {
nn::LinearOptions torch_linear(int64_t in) {
  // torch.nn.Linear's default: W and b both U(-1/sqrt(in), 1/sqrt(in)).
  const double r = 1.0 / std::sqrt(double(in));
  nn::LinearOptions o;
  o.weight_init = nn::Init::uniform(-r, r);
  o.bias_init = nn::Init::uniform(-r, r);
  return o;
}
}  // namespace

CnnClassifier::CnnClassifier(nn::Model& m, int64_t vocab_size, const CnnConfig& c)
    : Module(m, "cnn"),
      c_(c),
      widest_(*std::max_element(c.widths.begin(), c.widths.end())),
      embed_(m, vocab_size, c.embed,
             nn::EmbeddingOptions{c.sparse, c.embed_scale > 0 ? nn::Init::uniform(-c.embed_scale, c.embed_scale)
                                                              : nn::Init::normal(0.0, 1.0)}),
      drop_(m, c.dropout),
      out_(m, c.maps * int64_t(c.widths.size()), c.classes,
           torch_linear(c.maps * int64_t(c.widths.size())), "out") {
  for (int64_t w : c.widths)
    convs_.push_back(std::make_unique<nn::Conv1d>(m, c.embed, c.maps, w, nn::Conv1dOptions{},
                                                  "conv" + std::to_string(w)));
  close_scope();
}

Expr CnnClassifier::scores(Graph& g, const std::vector<int32_t>& ids) const {
  if (ids.empty()) throw Error("cnn: a sentence needs at least one word");
  // [embed]xT lookup -> [embed, T].
  return classify(batch_to_columns(embed_.forward(g, ids)), int64_t(ids.size()));
}

Expr CnnClassifier::scores(Graph& g, const std::vector<std::vector<int32_t>>& ids) const {
  if (ids.empty()) throw Error("cnn: an empty batch");
  if (ids.size() == 1) return scores(g, ids[0]);
  const size_t length = ids[0].size();
  if (length == 0) throw Error("cnn: a sentence needs at least one word");
  std::vector<Expr> xs;
  xs.reserve(ids.size());
  for (const auto& s : ids) {
    if (s.size() != length)
      throw Error("cnn: a batch holds sentences of one length; got " + std::to_string(length) + " and " +
                  std::to_string(s.size()) + " words");
    xs.push_back(batch_to_columns(embed_.forward(g, s)));
  }
  return classify(concat_batch(xs), int64_t(length));
}

Expr CnnClassifier::classify(const Expr& x, int64_t length) const {
  // Short sentences are padded with zero columns at the end.
  const Pad1d pad = Pad1d::explicit_lr(0, std::max<int64_t>(0, widest_ - length));
  std::vector<Expr> pooled;
  pooled.reserve(convs_.size());
  for (const auto& conv : convs_) pooled.push_back(max_over_time(relu(conv->forward(x, pad))));
  return out_(drop_(concat(pooled)));
}

Expr CnnClassifier::loss(Graph& g, const SentimentExample& ex) const {
  return pick_neg_log_softmax(scores(g, ex.ids), ex.label);
}

Expr CnnClassifier::loss(Graph& g, const SentimentBatch& b) const {
  if (b.size() == 1) return pick_neg_log_softmax(scores(g, b.ids[0]), b.labels[0]);
  return sum_batch(pick_neg_log_softmax(scores(g, b.ids), b.labels));
}

int32_t CnnClassifier::predict(Graph& g, const std::vector<int32_t>& ids) const {
  return argmax(scores(g, ids).to_vector());
}

double cnn_accuracy(const CnnClassifier& model, const std::vector<SentimentExample>& data) {
  return batched_accuracy(data, model.model().device(),
                          [&](Graph& g, const std::vector<std::vector<int32_t>>& ids) { return model.scores(g, ids); });
}

}  // namespace flare::examples
