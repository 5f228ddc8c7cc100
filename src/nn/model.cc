#include "flare/nn/model.h"

#include "flare/error.h"
#include "flare/graph.h"

namespace flare::nn {
namespace {

// Names are '/'-separated parts; an empty part would make two spellings of one name.
void check_name(const std::string& name, const char* what, const std::string& scope) {
  bool bad = name.empty() || name.front() == '/' || name.back() == '/' ||
             name.find("//") != std::string::npos;
  if (bad)
    throw Error(std::string("model: malformed ") + what + " name '" + name + "'" +
                (scope.empty() ? "" : " in scope '" + scope + "'") +
                " (names are non-empty parts separated by single '/')");
}

std::string duplicate_message(const std::string& full) {
  return "model: duplicate parameter name '" + full + "' (give the module or scope another name)";
}

}  // namespace

Model::Model(DType dtype, Device device) : dtype_(dtype), device_(device), seed_(flare::seed()) {}
Model::~Model() = default;

void Model::Scope::close() {
  if (!m_) return;
  m_->pop_to(depth_ - 1);
  m_ = nullptr;
}

size_t Model::push(const std::string& name, Module* module) {
  check_name(name, "scope", current_scope());
  scopes_.push_back({name, module});
  return scopes_.size();
}

void Model::pop_to(size_t depth) {
  if (scopes_.size() > depth) scopes_.resize(depth);
}

Model::Scope Model::scope(const std::string& name) { return Scope(this, push(name, nullptr)); }

Module* Model::open_module() const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
    if (it->module) return it->module;
  return nullptr;
}

std::string Model::current_scope() const {
  std::string s;
  for (const Entry& e : scopes_) {
    if (!s.empty()) s += '/';
    s += e.name;
  }
  return s;
}

std::string Model::full_name(const std::string& name) const {
  std::string s = current_scope();
  return s.empty() ? name : s + "/" + name;
}

Parameter& Model::create(const std::string& full, Tensor value, bool trainable) {
  check_name(full, "parameter", "");
  if (index_.count(full)) throw Error(duplicate_message(full));
  index_.emplace(full, params_.size());
  params_.push_back(std::make_unique<Parameter>(full, std::move(value), trainable));
  return *params_.back();
}

Parameter& Model::add_parameter(const std::string& name, const Shape& shape, const Init& init,
                                bool trainable) {
  check_name(name, "parameter", current_scope());
  return add_at(full_name(name), shape, init, trainable);
}

Parameter& Model::add_parameter(const std::string& name, const Tensor& value, bool trainable) {
  check_name(name, "parameter", current_scope());
  return add_at(full_name(name), value, trainable);
}

Parameter& Model::add_at(const std::string& full, const Shape& shape, const Init& init,
                         bool trainable) {
  check_name(full, "parameter", "");
  if (index_.count(full)) throw Error(duplicate_message(full));
  if (shape.batch() != 1)
    throw Error("model: parameter '" + full + "' must have batch 1; got shape " + shape.str());
  std::vector<double> v;
  try {
    v = sample(init, shape, name_seed(seed_, full));
  } catch (const Error& e) {
    throw Error("model: parameter '" + full + "': " + e.what());
  }
  return create(full, Tensor::from(shape, v, dtype_, device_), trainable);
}

Parameter& Model::add_at(const std::string& full, const Tensor& value, bool trainable) {
  check_name(full, "parameter", "");
  if (index_.count(full)) throw Error(duplicate_message(full));
  if (value.shape().batch() != 1)
    throw Error("model: parameter '" + full + "' must have batch 1; got shape " + value.shape().str());
  Tensor v = Tensor::empty(value.shape(), dtype_, device_);
  v.copy_from(value);
  return create(full, v, trainable);
}

std::vector<Parameter*> Model::parameters() const {
  std::vector<Parameter*> r;
  r.reserve(params_.size());
  for (auto& p : params_) r.push_back(p.get());
  return r;
}

std::vector<Parameter*> Model::trainable_parameters() const {
  std::vector<Parameter*> r;
  for (auto& p : params_)
    if (p->trainable()) r.push_back(p.get());
  return r;
}

std::vector<std::pair<std::string, Parameter*>> Model::named_parameters() const {
  std::vector<std::pair<std::string, Parameter*>> r;
  r.reserve(params_.size());
  for (auto& p : params_) r.emplace_back(p->name(), p.get());
  return r;
}

Parameter* Model::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : params_[it->second].get();
}

Parameter& Model::at(const std::string& name) const {
  if (Parameter* p = find(name)) return *p;
  throw Error("model: no parameter named '" + name + "'");
}

int64_t Model::num_elements() const {
  int64_t n = 0;
  for (auto& p : params_) n += p->shape().total();
  return n;
}

void Model::to(Device d) {
  for (auto& p : params_) p->to(d);
  device_ = d;
}

void Model::zero_grad() {
  for (auto& p : params_) p->zero_grad();
}

}  // namespace flare::nn
