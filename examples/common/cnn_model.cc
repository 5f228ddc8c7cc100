#include "common/cnn_model.h"

#include <algorithm>
#include <cmath>

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
      // torch.nn.Embedding's default N(0, 1) rows.
      embed_(m, vocab_size, c.embed, nn::EmbeddingOptions{c.sparse, nn::Init::normal(0.0, 1.0)}),
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
  // [embed]xT lookup -> [embed, T]; short sentences padded with zero columns at the end.
  const Expr x = batch_to_columns(embed_.forward(g, ids));
  const Pad1d pad = Pad1d::explicit_lr(0, std::max<int64_t>(0, widest_ - int64_t(ids.size())));
  std::vector<Expr> pooled;
  pooled.reserve(convs_.size());
  for (const auto& conv : convs_) pooled.push_back(max_over_time(relu(conv->forward(x, pad))));
  return out_(drop_(concat(pooled)));
}

Expr CnnClassifier::loss(Graph& g, const SentimentExample& ex) const {
  return pick_neg_log_softmax(scores(g, ex.ids), ex.label);
}

int32_t CnnClassifier::predict(Graph& g, const std::vector<int32_t>& ids) const {
  return argmax(scores(g, ids).to_vector());
}

double cnn_accuracy(const CnnClassifier& model, const std::vector<SentimentExample>& data) {
  if (data.empty()) return 0.0;
  Graph g;
  int64_t right = 0;
  for (const auto& ex : data) {
    g.clear();
    right += model.predict(g, ex.ids) == ex.label;
  }
  return double(right) / double(data.size());
}

}  // namespace flare::examples
