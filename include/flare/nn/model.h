#pragma once
/// Model: the owner of a network's parameters. Every parameter gets a unique hierarchical name
/// built from the scopes open when it is created, as in the original flare:
///
///     flare::nn::Model m;
///     {
///       auto s = m.scope("classifier");
///       flare::nn::LSTMCell lstm(m, 50, 100);        // classifier/lstm/input->gates/W, ...
///       flare::Parameter& w = m.add_parameter("out/W", flare::Shape{5, 100});  // classifier/out/W
///     }
///
/// Parameters have stable addresses for the model's lifetime (graphs and optimizers hold
/// pointers to them). Modules (nn/module.h) open a scope of their own name while constructed.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flare/device.h"
#include "flare/dtype.h"
#include "flare/nn/init.h"
#include "flare/parameter.h"

namespace flare::nn {

class Module;

class Model {
 public:
  /// Parameters are created with this element type (float64 for gradient checks) on `device`.
  /// The initialisers' seed is flare::seed() at this point.
  explicit Model(DType dtype = DType::f32, Device device = Device::cpu());
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model();

  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  /// The initialisers' seed; parameters created afterwards depend on it (and on their name).
  void set_seed(uint64_t seed) { seed_ = seed; }
  uint64_t seed() const { return seed_; }

  /// A guard that closes its scope when destroyed (or at close()). Scopes nest; close them in
  /// reverse order of opening.
  class Scope {
   public:
    Scope(Scope&& o) noexcept : m_(o.m_), depth_(o.depth_) { o.m_ = nullptr; }
    Scope& operator=(Scope&&) = delete;
    Scope(const Scope&) = delete;
    ~Scope() { close(); }
    void close();

   private:
    friend class Model;
    Scope(Model* m, size_t depth) : m_(m), depth_(depth) {}
    Model* m_;
    size_t depth_;
  };
  /// Opens scope `name` (one or more '/'-separated parts) inside the current one.
  [[nodiscard]] Scope scope(const std::string& name);
  /// The open scopes joined with '/' ("" at the top level).
  std::string current_scope() const;
  /// current_scope() + "/" + name (or name at the top level).
  std::string full_name(const std::string& name) const;

  /// Creates parameter current_scope()/name of the given shape (batch 1), initialised by `init`
  /// from name_seed(seed(), full name). Throws flare::Error naming it when the name is already
  /// taken or malformed (empty parts), or when `init` does not fit the shape.
  Parameter& add_parameter(const std::string& name, const Shape& shape,
                           const Init& init = Init::glorot_uniform(), bool trainable = true);
  /// Creates parameter current_scope()/name holding a copy of `value`, converted to the model's
  /// dtype and device.
  Parameter& add_parameter(const std::string& name, const Tensor& value, bool trainable = true);

  /// Every parameter, in creation order (what optimizers and checkpoints take).
  std::vector<Parameter*> parameters() const;
  /// The parameters with trainable() set, in creation order.
  std::vector<Parameter*> trainable_parameters() const;
  std::vector<std::pair<std::string, Parameter*>> named_parameters() const;
  /// The parameter with that full name, or nullptr.
  Parameter* find(const std::string& name) const;
  /// The parameter with that full name; throws flare::Error naming it when there is none.
  Parameter& at(const std::string& name) const;
  size_t size() const { return params_.size(); }
  /// Elements over all parameters.
  int64_t num_elements() const;

  /// Moves every parameter (value and gradient) to device d; later ones are created there.
  void to(Device d);
  /// Zeroes every parameter's gradient.
  void zero_grad();

 private:
  friend class Module;
  struct Entry {
    std::string name;
    Module* module;  // the module whose construction opened this scope, or null
  };
  Parameter& create(const std::string& full, Tensor value, bool trainable);
  Parameter& add_at(const std::string& full, const Shape& shape, const Init& init, bool trainable);
  Parameter& add_at(const std::string& full, const Tensor& value, bool trainable);
  size_t push(const std::string& name, Module* module);
  void pop_to(size_t depth);
  Module* open_module() const;

  DType dtype_;
  Device device_;
  uint64_t seed_;
  std::vector<std::unique_ptr<Parameter>> params_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<Entry> scopes_;
};

}  // namespace flare::nn
