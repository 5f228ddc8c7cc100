#pragma once
/// Module: a named piece of network that owns parameters in a Model and builds graph pieces
/// from input Exprs (the graph is the input's: x.graph()).
///
/// A module's constructor opens a scope of its name in the model, so parameters and child
/// modules created while it runs are named and registered under it. A derived constructor calls
/// close_scope() when it is done; member modules, being constructed inside that scope, become
/// children automatically:
///
///     class Tagger : public flare::nn::Module {
///      public:
///       Tagger(flare::nn::Model& m)
///           : Module(m, "tagger"), embed_(m, 1000, 32), lstm_(m, 32, 64) { close_scope(); }
///      private:
///       flare::nn::Embedding embed_;   // tagger/embed/E
///       flare::nn::LSTMCell lstm_;     // tagger/lstm/...
///     };
///
/// Modules are neither copyable nor movable (parents and graphs point at them): hold them as
/// members or through unique_ptr. A module must not outlive its model. Parameters live in the
/// model, not the module: when a constructor throws, those it had created stay (names taken).
#include <string>
#include <vector>

#include "flare/graph.h"
#include "flare/nn/model.h"

namespace flare::nn {

class Module {
 public:
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module();

  /// The full scope, e.g. "classifier/lstm"; parameters are named path() + "/" + local name.
  const std::string& path() const { return path_; }
  Model& model() const { return *model_; }

  /// Training mode (the default) or evaluation mode, for this module and all its children.
  /// Dropout is active only in training mode.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  /// The parameters under this module's scope (its own and its children's), in creation order.
  std::vector<Parameter*> parameters() const;
  const std::vector<Module*>& children() const { return children_; }
  Module* parent() const { return parent_; }

 protected:
  /// Opens scope `name` in m; the module becomes a child of the module being constructed, if any.
  Module(Model& m, const std::string& name);
  /// Ends the scope the constructor opened (idempotent; the destructor does it on exceptions).
  void close_scope();
  /// Creates parameter path()/name (whether or not the scope is still open).
  Parameter& add_parameter(const std::string& name, const Shape& shape, const Init& init,
                           bool trainable = true);
  Parameter& add_parameter(const std::string& name, const Tensor& value, bool trainable = true);

 private:
  Model* model_;
  std::string path_;
  Module* parent_ = nullptr;
  std::vector<Module*> children_;
  size_t depth_;  // scope depth once opened; 0 after close_scope()
  bool training_ = true;
};

/// Element-wise activations for MLPs and the like.
enum class Activation { identity, tanh, sigmoid, relu, elu, softplus };
Expr activate(Activation a, const Expr& x);
/// "tanh", "relu", ...; parse_activation throws flare::Error for an unknown name.
const char* activation_name(Activation a);
Activation parse_activation(const std::string& name);

}  // namespace flare::nn
