#include "flare/nn/module.h"

#include <algorithm>

#include "flare/error.h"
#include "flare/ops.h"

namespace flare::nn {

Module::Module(Model& m, const std::string& name) : model_(&m) {
  parent_ = m.open_module();
  depth_ = m.push(name, this);
  path_ = m.current_scope();
  if (parent_) {
    parent_->children_.push_back(this);
    training_ = parent_->training_;
  }
}

Module::~Module() {
  close_scope();
  for (Module* c : children_) c->parent_ = nullptr;
  if (parent_) {
    auto& sib = parent_->children_;
    sib.erase(std::remove(sib.begin(), sib.end(), this), sib.end());
  }
}

void Module::close_scope() {
  if (depth_ == 0) return;
  // Only pop our own entry: an outer guard may already have closed it.
  auto& s = model_->scopes_;
  if (s.size() >= depth_ && s[depth_ - 1].module == this) model_->pop_to(depth_ - 1);
  depth_ = 0;
}

void Module::train(bool on) {
  training_ = on;
  for (Module* c : children_) c->train(on);
}

std::vector<Parameter*> Module::parameters() const {
  std::vector<Parameter*> r;
  const std::string prefix = path_ + "/";
  for (Parameter* p : model_->parameters())
    if (p->name().compare(0, prefix.size(), prefix) == 0) r.push_back(p);
  return r;
}

Parameter& Module::add_parameter(const std::string& name, const Shape& shape, const Init& init,
                                 bool trainable) {
  return model_->add_at(path_ + "/" + name, shape, init, trainable);
}

Parameter& Module::add_parameter(const std::string& name, const Tensor& value, bool trainable) {
  return model_->add_at(path_ + "/" + name, value, trainable);
}

Expr activate(Activation a, const Expr& x) {
  switch (a) {
    case Activation::identity: return x;
    case Activation::tanh: return tanh(x);
    case Activation::sigmoid: return sigmoid(x);
    case Activation::relu: return relu(x);
    case Activation::elu: return elu(x);
    case Activation::softplus: return softplus(x);
  }
  return x;
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::identity: return "identity";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
    case Activation::relu: return "relu";
    case Activation::elu: return "elu";
    case Activation::softplus: return "softplus";
  }
  return "?";
}

Activation parse_activation(const std::string& name) {
  for (Activation a : {Activation::identity, Activation::tanh, Activation::sigmoid, Activation::relu,
                       Activation::elu, Activation::softplus})
    if (name == activation_name(a)) return a;
  throw Error("unknown activation '" + name +
              "' (expected identity, tanh, sigmoid, relu, elu or softplus)");
}

}  // namespace flare::nn
