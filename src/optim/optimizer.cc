#include "flare/optim/optimizer.h"

#include <cmath>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "flare/error.h"

namespace flare::optim {
namespace {

std::string quote(const std::string& s) { return "'" + s + "'"; }

std::string number(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

UpdateRange range_of(const Parameter& p) {
  if (!p.sparse() && !p.row_gradients()) return UpdateRange::dense(p.shape().total());
  const auto& rows = p.touched_rows();
  const int64_t row = p.shape().size() / p.shape().dim(0);
  if (!p.sparse()) return UpdateRange::dense_with_grad_rows(p.shape().total(), p.touched_mask(), row);
  return UpdateRange::of_rows(rows.data(), int64_t(rows.size()), row);
}

}  // namespace

void check_option(bool ok, const char* optimizer, const char* what, const char* rule, double v) {
  if (!ok)
    throw Error(std::string(optimizer) + ": " + what + " must be " + rule + ", got " + number(v));
}

Optimizer::Optimizer(std::vector<Parameter*> params, double lr, std::string kind,
                     std::vector<Slot> slots)
    : params_(std::move(params)), slots_(std::move(slots)), kind_(std::move(kind)), lr_(lr) {
  check_option(std::isfinite(lr) && lr >= 0, kind_.c_str(), "lr", "finite and >= 0", lr);
  std::unordered_set<const Parameter*> seen_ptr;
  std::unordered_set<std::string> seen_name;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Parameter* p = params_[i];
    if (!p) throw Error(kind_ + ": parameter " + std::to_string(i) + " is null");
    if (p->name().empty())
      throw Error(kind_ + ": parameter " + std::to_string(i) + " has no name (state is saved by name)");
    if (!seen_ptr.insert(p).second) throw Error(kind_ + ": parameter " + quote(p->name()) + " is listed twice");
    if (!seen_name.insert(p->name()).second)
      throw Error(kind_ + ": two parameters are named " + quote(p->name()));
  }
  state_.resize(params_.size());
}

void Optimizer::set_lr(double lr) {
  check_option(std::isfinite(lr) && lr >= 0, kind_.c_str(), "lr", "finite and >= 0", lr);
  lr_ = lr;
}

bool Optimizer::has_state(size_t i) const {
  return !slots_.empty() && (params_[i]->trainable() || !state_[i].empty());
}

std::vector<Tensor>& Optimizer::slots_of(size_t i) {
  Parameter& p = *params_[i];
  std::vector<Tensor>& st = state_[i];
  if (st.empty()) {
    for (const Slot& s : slots_) st.push_back(Tensor::full(p.shape(), s.init, p.dtype(), p.device()));
  } else if (!slots_.empty() && st[0].device() != p.device()) {
    for (Tensor& t : st) t = t.to(p.device());  // the parameter moved (Parameter::to)
  }
  return st;
}

void Optimizer::step() {
  ++step_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    if (!p.trainable()) continue;
    UpdateRange r = range_of(p);
    if (r.sparse() && r.n_rows == 0) continue;
    update(p, slots_of(i), r);
  }
}

void Optimizer::zero_grad() {
  for (Parameter* p : params_) p->zero_grad();
}

void Optimizer::step_and_zero_grad() {
  ++step_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    UpdateRange r = p.trainable() ? range_of(p) : UpdateRange{};
    if (!p.trainable() || (r.sparse() && r.n_rows == 0)) {
      p.zero_grad();
      continue;
    }
    // Only the CPU kernels clear the gradient as they go; elsewhere it is a second pass.
    zero_in_update_ = p.device().is_cpu();
    try {
      update(p, slots_of(i), r);
    } catch (...) {
      zero_in_update_ = false;
      throw;
    }
    // A parameter whose update used its touched rows also forgets them (re-zeroing those few
    // rows is cheap).
    if (!zero_in_update_ || p.sparse() || p.row_gradients()) p.zero_grad();
    zero_in_update_ = false;
  }
}

OptimizerState Optimizer::state() {
  settle_deferred();
  OptimizerState s;
  s.kind = kind_;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!has_state(i)) continue;
    std::vector<Tensor>& st = slots_of(i);
    for (size_t k = 0; k < slots_.size(); ++k)
      s.tensors.emplace_back(params_[i]->name() + "/" + kind_ + "/" + slots_[k].name, st[k]);
  }
  s.scalars["step"] = double(step_);
  s.scalars["lr"] = lr_;
  return s;
}

std::vector<std::string> Optimizer::check_state(const OptimizerState& s) const {
  std::vector<std::string> problems;
  if (s.kind != kind_) {
    problems.push_back("optimizer state is for " + quote(s.kind) + ", this optimizer is " + quote(kind_));
    return problems;  // every name would differ; one line says it all
  }
  // What this optimizer expects: name -> parameter.
  std::unordered_map<std::string, const Parameter*> expected;
  std::vector<std::string> order;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!has_state(i)) continue;
    for (const Slot& sl : slots_) {
      std::string name = params_[i]->name() + "/" + kind_ + "/" + sl.name;
      expected.emplace(name, params_[i]);
      order.push_back(std::move(name));
    }
  }
  std::unordered_set<std::string> present;
  for (const auto& [name, t] : s.tensors) {
    present.insert(name);
    auto it = expected.find(name);
    if (it == expected.end()) {
      problems.push_back("unexpected optimizer state " + quote(name));
      continue;
    }
    const Parameter& p = *it->second;
    if (t.dtype() != p.dtype())
      problems.push_back("optimizer state " + quote(name) + ": dtype " + dtype_name(t.dtype()) +
                         " in the saved state, " + dtype_name(p.dtype()) + " expected");
    if (t.shape() != p.shape())
      problems.push_back("optimizer state " + quote(name) + ": shape " + t.shape().str() +
                         " in the saved state, " + p.shape().str() + " expected");
  }
  for (const std::string& name : order)
    if (!present.count(name)) problems.push_back("missing optimizer state " + quote(name));

  auto step = s.scalars.find("step");
  if (step == s.scalars.end()) {
    problems.push_back("missing optimizer scalar 'step'");
  } else if (!(step->second >= 0 && step->second < 9.0e15 && step->second == std::floor(step->second))) {
    problems.push_back("optimizer scalar 'step' must be a whole number >= 0, got " + number(step->second));
  }
  auto lr = s.scalars.find("lr");
  if (lr == s.scalars.end()) {
    problems.push_back("missing optimizer scalar 'lr'");
  } else if (!(std::isfinite(lr->second) && lr->second >= 0)) {
    problems.push_back("optimizer scalar 'lr' must be finite and >= 0, got " + number(lr->second));
  }
  for (const auto& [k, v] : s.scalars)
    if (k != "step" && k != "lr") problems.push_back("unexpected optimizer scalar " + quote(k));
  return problems;
}

void Optimizer::load_state(const OptimizerState& s) {
  std::vector<std::string> problems = check_state(s);
  if (!problems.empty()) {
    std::string msg = kind_ + ": cannot load optimizer state:";
    for (const std::string& p : problems) msg += "\n  " + p;
    throw Error(msg);
  }
  settle_deferred();  // nothing pending may be applied on top of the loaded state
  std::unordered_map<std::string, const Tensor*> by_name;
  for (const auto& [name, t] : s.tensors) by_name.emplace(name, &t);
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!has_state(i)) continue;
    std::vector<Tensor>& st = slots_of(i);
    for (size_t k = 0; k < slots_.size(); ++k)
      st[k].copy_from(*by_name.at(params_[i]->name() + "/" + kind_ + "/" + slots_[k].name));
  }
  step_ = int64_t(s.scalars.at("step"));
  lr_ = s.scalars.at("lr");
}

}  // namespace flare::optim
