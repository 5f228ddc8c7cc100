#include "common/model_file.h"

#include "flare/error.h"
#include "flare/io/safetensors.h"
#include "flare/train/checkpoint.h"

namespace flare::examples {
namespace {

const char kVocabPrefix[] = "vocab.";
const char kUnkSuffix[] = ".unk";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

const io::Vocabulary& ModelInfo::vocab(const std::string& name) const {
  auto it = vocabs.find(name);
  if (it == vocabs.end()) throw IoError(source + ": the checkpoint has no vocabulary '" + name + "'");
  return it->second;
}

void save_model(const std::string& path, const ModelInfo& info, const std::vector<Parameter*>& params,
                optim::Optimizer* optimizer) {
  io::Metadata meta{{"example", info.example}, {"config", info.config.dump()}};
  for (const auto& [name, v] : info.vocabs) {
    nlohmann::json words = nlohmann::json::array();
    for (int32_t i = v.has_unk() ? 1 : 0; i < v.size(); ++i) words.push_back(v.word(i));
    meta[kVocabPrefix + name] = words.dump();
    if (v.has_unk()) meta[kVocabPrefix + name + kUnkSuffix] = v.unk_token();
  }
  train::save_checkpoint(path, params, optimizer, meta);
}

ModelInfo read_model_info(const std::string& path, const std::string& example) {
  const io::Metadata meta = io::load_safetensors(path).metadata;
  ModelInfo info;
  info.source = path;
  auto it = meta.find("example");
  if (it == meta.end() || meta.find("config") == meta.end())
    throw IoError(path + ": not a checkpoint written by a flare example (no 'example' and 'config' metadata)");
  info.example = it->second;
  if (info.example != example)
    throw IoError(path + ": a checkpoint of the '" + info.example + "' example, not of '" + example + "'");
  try {
    info.config = nlohmann::json::parse(meta.at("config"));
    for (const auto& [key, value] : meta) {
      if (key.rfind(kVocabPrefix, 0) != 0 || ends_with(key, kUnkSuffix)) continue;
      const std::string name = key.substr(sizeof kVocabPrefix - 1);
      auto unk = meta.find(key + kUnkSuffix);
      io::Vocabulary v = unk == meta.end() ? io::Vocabulary::without_unk() : io::Vocabulary(unk->second);
      for (const auto& w : nlohmann::json::parse(value)) v.add(w.get<std::string>());
      v.freeze();
      info.vocabs.emplace(name, std::move(v));
    }
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": malformed example metadata: " + e.what());
  }
  return info;
}

void load_model(const std::string& path, const std::vector<Parameter*>& params, optim::Optimizer* optimizer) {
  if (optimizer && !io::load_safetensors(path).metadata.count("flare.optimizer")) optimizer = nullptr;
  train::load_checkpoint(path, params, optimizer);
}

void Snapshot::take(const std::vector<Parameter*>& params) {
  values_.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (!values_[i].defined() || values_[i].shape() != params[i]->shape())
      values_[i] = params[i]->value().clone();
    else
      values_[i].copy_from(params[i]->value());
  }
}

void Snapshot::restore(const std::vector<Parameter*>& params) const {
  if (values_.empty()) return;
  if (values_.size() != params.size()) throw Error("Snapshot::restore: taken from another parameter list");
  for (size_t i = 0; i < params.size(); ++i) params[i]->value().copy_from(values_[i]);
}

}  // namespace flare::examples
