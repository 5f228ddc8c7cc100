#include "flare/train/checkpoint.h"

#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "flare/error.h"

namespace flare::train {
namespace {

const char kOptimPrefix[] = "optimizer/";
const char kReserved[] = "flare.";
const char kFormatKey[] = "flare.checkpoint";
const char kKindKey[] = "flare.optimizer";
const char kScalarPrefix[] = "flare.optimizer.";

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }
std::string quote(const std::string& s) { return "'" + s + "'"; }

std::string format_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void check_names(const std::vector<Parameter*>& params, const char* who) {
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i]) throw Error(std::string(who) + ": parameter " + std::to_string(i) + " is null");
    const std::string& n = params[i]->name();
    if (n.empty()) throw Error(std::string(who) + ": parameter " + std::to_string(i) + " has no name");
    if (starts_with(n, kOptimPrefix))
      throw Error(std::string(who) + ": parameter name " + quote(n) + " collides with the optimizer's '" +
                  kOptimPrefix + "' prefix");
    if (!seen.insert(n).second) throw Error(std::string(who) + ": two parameters are named " + quote(n));
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const std::vector<Parameter*>& params,
                     optim::Optimizer* optimizer, const io::Metadata& metadata) {
  check_names(params, "save_checkpoint");
  io::Metadata meta;
  for (const auto& [k, v] : metadata) {
    if (starts_with(k, kReserved))
      throw Error("save_checkpoint: metadata key " + quote(k) + " is reserved (keys starting with 'flare.')");
    meta[k] = v;
  }
  meta[kFormatKey] = "1";
  io::NamedTensors tensors;
  for (Parameter* p : params) tensors.emplace_back(p->name(), p->value());
  if (optimizer) {
    optim::OptimizerState s = optimizer->state();
    meta[kKindKey] = s.kind;
    for (const auto& [k, v] : s.scalars) meta[kScalarPrefix + k] = format_double(v);
    for (auto& [name, t] : s.tensors) tensors.emplace_back(kOptimPrefix + name, t);
  }
  io::save_safetensors(path, tensors, meta);
}

io::Metadata load_checkpoint(const std::string& path, const std::vector<Parameter*>& params,
                             optim::Optimizer* optimizer) {
  check_names(params, "load_checkpoint");
  // Everything is read into host temporaries first; the model is touched only once it all fits.
  io::SafetensorsFile file = io::load_safetensors(path);

  std::vector<std::string> problems;
  std::unordered_map<std::string, const Tensor*> in_file;
  optim::OptimizerState state;
  for (const auto& [name, t] : file.tensors) {
    if (starts_with(name, kOptimPrefix))
      state.tensors.emplace_back(name.substr(sizeof kOptimPrefix - 1), t);
    else
      in_file.emplace(name, &t);
  }
  std::unordered_set<std::string> wanted;
  for (const Parameter* p : params) {
    wanted.insert(p->name());
    auto it = in_file.find(p->name());
    if (it == in_file.end()) {
      problems.push_back("missing parameter " + quote(p->name()) + " (" + p->shape().str() + " " +
                         dtype_name(p->dtype()) + ")");
      continue;
    }
    const Tensor& t = *it->second;
    if (t.shape() != p->shape())
      problems.push_back("parameter " + quote(p->name()) + ": shape " + t.shape().str() +
                         " in the file, " + p->shape().str() + " in the model");
    if (t.dtype() != p->dtype())
      problems.push_back("parameter " + quote(p->name()) + ": dtype " + dtype_name(t.dtype()) +
                         " in the file, " + dtype_name(p->dtype()) + " in the model");
  }
  for (const auto& [name, t] : file.tensors)
    if (!starts_with(name, kOptimPrefix) && !wanted.count(name))
      problems.push_back("unexpected tensor " + quote(name) + " in the file");
  for (const auto& [name, a] : file.int_tensors)
    problems.push_back("unexpected tensor " + quote(name) + " in the file (an integer tensor)");

  if (optimizer) {
    auto kind = file.metadata.find(kKindKey);
    if (kind == file.metadata.end()) {
      problems.push_back("the file has no optimizer state (saved without an optimizer)");
    } else {
      state.kind = kind->second;
      for (const auto& [k, v] : file.metadata) {
        if (!starts_with(k, kScalarPrefix)) continue;
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0')
          problems.push_back("metadata " + quote(k) + ": not a number: " + quote(v));
        else
          state.scalars[k.substr(sizeof kScalarPrefix - 1)] = x;
      }
      for (const std::string& p : optimizer->check_state(state)) problems.push_back(p);
    }
  }

  if (!problems.empty()) {
    std::string msg = path + ": checkpoint does not match:";
    for (const std::string& p : problems) msg += "\n  " + p;
    throw IoError(msg);
  }

  // Stage copies on other devices before assigning, so a failed allocation changes nothing.
  std::vector<Tensor> staged;
  for (const Parameter* p : params) {
    const Tensor& t = *in_file.at(p->name());
    staged.push_back(p->device().is_cpu() ? t : t.to(p->device()));
  }
  for (size_t i = 0; i < params.size(); ++i) params[i]->value().copy_from(staged[i]);
  if (optimizer) optimizer->load_state(state);

  io::Metadata user;
  for (const auto& [k, v] : file.metadata)
    if (!starts_with(k, kReserved)) user[k] = v;
  return user;
}

}  // namespace flare::train
