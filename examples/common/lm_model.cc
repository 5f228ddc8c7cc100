#include "common/lm_model.h"

#include <cmath>

#include "flare/error.h"

namespace flare::examples {

nlohmann::json LMConfig::to_json() const {
  return {{"embed", embed}, {"hidden", hidden}, {"layers", layers}, {"dropout", dropout}, {"sparse", sparse},
          {"torch_init", torch_init}};
}

LMConfig LMConfig::from_json(const nlohmann::json& j) {
  LMConfig c;
  c.embed = j.at("embed");
  c.hidden = j.at("hidden");
  c.layers = j.at("layers");
  c.dropout = j.at("dropout");
  c.sparse = j.at("sparse");
  c.torch_init = j.value("torch_init", false);  // absent from files written before it existed
  return c;
}

namespace {
nn::RNNOptions rnn_options(const LMConfig& c) {
  nn::RNNOptions o;
  o.layers = c.layers;
  o.dropout = c.dropout;
  if (c.torch_init) {
    const double k = 1 / std::sqrt(double(c.hidden));
    o.lstm.input_init = o.lstm.hidden_init = nn::Init::uniform(-k, k);
    o.lstm.forget_bias = 0;
  }
  return o;
}

nn::EmbeddingOptions embedding_options(const LMConfig& c) {
  nn::EmbeddingOptions o{c.sparse, {}};
  if (c.torch_init) o.init = nn::Init::normal(0, 1);
  return o;
}

nn::LinearOptions output_options(const LMConfig& c) {
  nn::LinearOptions o;
  if (c.torch_init) {
    const double k = 1 / std::sqrt(double(c.hidden));
    o.weight_init = o.bias_init = nn::Init::uniform(-k, k);
  }
  return o;
}
}  // namespace

LanguageModel::LanguageModel(nn::Model& m, int64_t vocab_size, const LMConfig& c, const std::string& name)
    : Module(m, name),
      c_(c),
      embed_(m, vocab_size, c.embed, embedding_options(c)),
      rnn_(m, c.embed, c.hidden, rnn_options(c)),
      drop_(m, c.dropout),
      out_(m, c.hidden, vocab_size, output_options(c), "out") {
  close_scope();
}

Expr LanguageModel::loss(Graph& g, const LMBatch& b) const {
  if (b.inputs.empty()) throw Error("LanguageModel::loss: an empty batch");
  const Expr table = g.param(embed_.table());
  std::vector<Expr> xs;
  xs.reserve(b.inputs.size());
  for (const auto& ids : b.inputs) xs.push_back(drop_(lookup(table, ids)));
  std::vector<Expr> hs = rnn_(xs).outputs;
  for (Expr& h : hs) h = drop_(h);
  // Every step's states as one batch of T x B: the output layer and the softmax run once over
  // all of them (one matrix product instead of T, the weights read once).
  std::vector<int32_t> targets;
  std::vector<float> mask;
  for (size_t t = 0; t < hs.size(); ++t) {
    targets.insert(targets.end(), b.targets[t].begin(), b.targets[t].end());
    if (!b.mask.empty()) mask.insert(mask.end(), b.mask[t].begin(), b.mask[t].end());
  }
  Expr nll = pick_neg_log_softmax(out_(concat_batch(hs)), targets);
  if (!mask.empty()) nll = nll * g.input(Shape({}, int64_t(mask.size())), mask);
  return sum_batch(nll);
}

std::vector<double> LanguageModel::step(Graph& g, int32_t id, State& state) const {
  const int L = rnn_.layers();
  const bool fresh = state.h.empty();
  Expr x = lookup(g, embed_.table(), id);
  State next;
  for (int l = 0; l < L; ++l) {
    nn::RNNState s;
    if (!fresh) s = {g.input(state.h[size_t(l)]), g.input(state.c[size_t(l)])};
    s = rnn_.cell(l).forward(x, s);
    next.h.push_back(s.h.value().clone());
    next.c.push_back(s.c.value().clone());
    x = s.h;
  }
  state = std::move(next);
  return out_(x).to_vector();
}

double LMScore::perplexity() const { return targets ? std::exp(nll / double(targets)) : 0; }
double LMScore::bits_per_token() const { return targets ? nll / double(targets) / std::log(2.0) : 0; }

LMScore lm_score(const LanguageModel& model, const std::vector<LMBatch>& batches) {
  Graph g(model.model().device());  // where the model is (a GPU after Model::to)
  LMScore s;
  for (const LMBatch& b : batches) {
    g.clear();
    s.nll += model.loss(g, b).item();
    s.targets += b.real_targets;
  }
  return s;
}

int32_t sample_index(const std::vector<double>& scores, double temperature, std::mt19937_64& gen) {
  if (scores.empty()) throw Error("sample_index: no scores");
  int32_t best = 0;
  for (size_t k = 1; k < scores.size(); ++k)
    if (scores[k] > scores[size_t(best)]) best = int32_t(k);
  if (temperature <= 0) return best;
  std::vector<double> p(scores.size());
  double total = 0;
  for (size_t k = 0; k < scores.size(); ++k) total += p[k] = std::exp((scores[k] - scores[size_t(best)]) / temperature);
  double u = std::uniform_real_distribution<double>(0, total)(gen);
  for (size_t k = 0; k < p.size(); ++k)
    if ((u -= p[k]) < 0) return int32_t(k);
  return best;
}

}  // namespace flare::examples
