// Checkpoints: round trips, exact resumption, and every kind of mismatch or damage.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <memory>

#include "flare/error.h"
#include "flare/optim.h"
#include "flare/train/checkpoint.h"
#include "train/train_test_util.h"

namespace flare::train {
namespace {

using testing::TempDir;
using testing::TinyModel;

std::vector<double> all_values(TinyModel& m) {
  std::vector<double> out;
  for (Parameter* p : m.params()) {
    std::vector<double> v = p->value().to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Runs steps [from, to) of the fixed stream: 2 examples per update, clipped, lr by schedule.
void train(TinyModel& m, optim::Optimizer& opt, optim::Scheduler& sched, int64_t from, int64_t to) {
  Graph g;
  for (int64_t step = from; step < to; ++step) {
    opt.zero_grad();
    for (int64_t k = 0; k < 2; ++k) {
      auto [id, label] = testing::tiny_example(2 * step + k);
      m.backprop(g, id, label);
    }
    optim::clip_grad_norm(m.params(), 2.0);
    opt.step();
    sched.step();
  }
}

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Parameter*>)>;

struct ResumeCase {
  const char* name;
  MakeOptimizer make;
};
void PrintTo(const ResumeCase& c, std::ostream* os) { *os << c.name; }

class Resume : public ::testing::TestWithParam<ResumeCase> {};

TEST_P(Resume, ContinuesExactlyAsIfItHadNotStopped) {
  constexpr int64_t kSteps = 12, kStop = 5;
  const MakeOptimizer& make = GetParam().make;
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");

  // The uninterrupted run.
  TinyModel a(1);
  auto oa = make(a.params());
  optim::CosineWarmupLR sa(*oa, 2, kSteps, oa->lr() / 10);
  train(a, *oa, sa, 0, kSteps);

  // The interrupted one: kStop steps, save, everything rebuilt from scratch, load, go on.
  {
    TinyModel b(1);
    auto ob = make(b.params());
    optim::CosineWarmupLR sb(*ob, 2, kSteps, ob->lr() / 10);
    train(b, *ob, sb, 0, kStop);
    save_checkpoint(path, b.params(), ob.get(), {{"step", std::to_string(sb.last_step())}});
  }
  TinyModel c(99);  // different initial values: everything must come from the file
  auto oc = make(c.params());
  optim::CosineWarmupLR sc(*oc, 2, kSteps, oc->lr() / 10);
  io::Metadata meta = load_checkpoint(path, c.params(), oc.get());
  sc.set_last_step(std::stoll(meta.at("step")));
  EXPECT_EQ(oc->step_count(), kStop);
  train(c, *oc, sc, kStop, kSteps);

  EXPECT_EQ(all_values(a), all_values(c));  // bit for bit
  optim::OptimizerState s1 = oa->state(), s2 = oc->state();
  ASSERT_EQ(s1.tensors.size(), s2.tensors.size());
  for (size_t i = 0; i < s1.tensors.size(); ++i)
    EXPECT_EQ(s1.tensors[i].second.to_vector(), s2.tensors[i].second.to_vector()) << s1.tensors[i].first;
  // And the run did learn something: the values moved.
  EXPECT_NE(all_values(a), all_values(*std::make_unique<TinyModel>(1)));
}

template <typename Opt, typename Options>
MakeOptimizer maker(Options o) {
  return [o](std::vector<Parameter*> p) { return std::make_unique<Opt>(std::move(p), o); };
}

INSTANTIATE_TEST_SUITE_P(
    Checkpoint, Resume,
    ::testing::Values(
        ResumeCase{"sgd_nesterov", maker<optim::Sgd>(optim::SgdOptions(0.1).momentum(0.9).nesterov(true))},
        ResumeCase{"adagrad", maker<optim::Adagrad>(optim::AdagradOptions(0.1).lr_decay(0.01))},
        ResumeCase{"adadelta", maker<optim::Adadelta>(optim::AdadeltaOptions())},
        ResumeCase{"adam", maker<optim::Adam>(optim::AdamOptions(0.01).weight_decay(0.01))},
        ResumeCase{"adamw", maker<optim::AdamW>(optim::AdamWOptions(0.01))}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Checkpoint, RoundTripsParametersStateAndMetadata) {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  TinyModel a(1);
  optim::Adam oa(a.params(), optim::AdamOptions(0.05));
  Graph g;
  for (int64_t i = 0; i < 3; ++i) {
    oa.zero_grad();
    a.backprop(g, testing::tiny_example(i).first, testing::tiny_example(i).second);
    oa.step();
  }
  oa.set_lr(0.0123456789012345);
  save_checkpoint(path, a.params(), &oa, {{"epoch", "3"}, {"note", "hello"}});

  // The file is plain safetensors: parameters by name, optimizer state under a prefix.
  io::SafetensorsFile f = io::load_safetensors(path);
  EXPECT_NE(f.find("out.W"), nullptr);
  EXPECT_NE(f.find("optimizer/embed.E/adam/m"), nullptr);
  EXPECT_EQ(f.metadata.at("flare.optimizer"), "adam");
  EXPECT_EQ(f.metadata.at("flare.optimizer.step"), "3");

  TinyModel b(7);
  optim::Adam ob(b.params(), optim::AdamOptions(0.05));
  io::Metadata meta = load_checkpoint(path, b.params(), &ob);
  EXPECT_EQ(meta, (io::Metadata{{"epoch", "3"}, {"note", "hello"}}));
  EXPECT_EQ(all_values(a), all_values(b));
  EXPECT_EQ(ob.step_count(), 3);
  EXPECT_EQ(ob.lr(), 0.0123456789012345);  // 17 significant digits survive
  optim::OptimizerState sa = oa.state(), sb = ob.state();
  for (size_t i = 0; i < sa.tensors.size(); ++i)
    EXPECT_EQ(sa.tensors[i].second.to_vector(), sb.tensors[i].second.to_vector());

  // Parameters alone: the optimizer entries are ignored.
  TinyModel c(8);
  load_checkpoint(path, c.params());
  EXPECT_EQ(all_values(a), all_values(c));
}

// Expects load_checkpoint to throw IoError whose message contains each of `parts`, and the
// model to be unchanged.
void expect_load_error(const std::string& path, std::vector<Parameter*> params,
                       optim::Optimizer* opt, const std::vector<std::string>& parts) {
  std::vector<std::vector<double>> before;
  for (Parameter* p : params) before.push_back(p->value().to_vector());
  const int64_t step = opt ? opt->step_count() : 0;
  try {
    load_checkpoint(path, params, opt);
    ADD_FAILURE() << "no error loading " << path;
  } catch (const IoError& e) {
    const std::string msg = e.what();
    for (const std::string& part : parts)
      EXPECT_NE(msg.find(part), std::string::npos) << "message:\n" << msg << "\nmissing: " << part;
  }
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_EQ(params[i]->value().to_vector(), before[i]) << "parameter " << params[i]->name() << " changed";
  if (opt) {
    EXPECT_EQ(opt->step_count(), step);
  }
}

struct Saved {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  TinyModel model{1};
  Saved(bool with_optimizer = true) {
    optim::Adam opt(model.params());
    save_checkpoint(path, model.params(), with_optimizer ? &opt : nullptr);
  }
};

TEST(Checkpoint, TruncatedFile) {
  Saved s;
  const auto size = std::filesystem::file_size(s.path);
  std::filesystem::resize_file(s.path, size - 10);
  TinyModel m(5);
  expect_load_error(s.path, m.params(), nullptr, {s.path + ": "});
  std::filesystem::resize_file(s.path, 20);
  expect_load_error(s.path, m.params(), nullptr, {s.path + ": "});
}

TEST(Checkpoint, EveryTruncationIsACleanError) {
  Saved s;
  std::string bytes;
  {
    std::ifstream in(s.path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  TinyModel m(5);
  optim::Adam opt(m.params());
  const std::vector<double> before = all_values(m);
  const std::string cut = s.dir.file("cut.safetensors");
  // Every length through the header's start, then a stride over the rest (each load re-reads
  // the file, so all lengths would take seconds).
  for (size_t len = 0; len < bytes.size(); len += len < 64 ? 1 : 13) {
    std::ofstream(cut, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(len));
    EXPECT_THROW(load_checkpoint(cut, m.params(), &opt), IoError) << "length " << len;
  }
  EXPECT_EQ(all_values(m), before);
  EXPECT_EQ(opt.step_count(), 0);
}

TEST(Checkpoint, GarbageAndMissingFiles) {
  TempDir dir;
  const std::string path = dir.file("garbage.safetensors");
  std::ofstream(path, std::ios::binary) << std::string("\xff\xff\xff\xff\xff\xff\xff\x7f not a checkpoint", 26);
  TinyModel m(5);
  expect_load_error(path, m.params(), nullptr, {path + ": "});
  expect_load_error(dir.file("nope.safetensors"), m.params(), nullptr, {"nope.safetensors"});
}

TEST(Checkpoint, WrongShapeNamesBothShapes) {
  Saved s;
  TinyModel m(5);
  Parameter W("out.W", Tensor::zeros(Shape{4, 3}));
  Parameter b("out.b", Tensor::zeros(Shape{3}, DType::f64));
  expect_load_error(s.path, {&m.E, &W, &b}, nullptr,
                    {s.path + ": checkpoint does not match:",
                     "parameter 'out.W': shape [3,4] in the file, [4,3] in the model",
                     "parameter 'out.b': dtype float32 in the file, float64 in the model"});
}

TEST(Checkpoint, MissingAndUnexpectedNames) {
  Saved s;
  TinyModel m(5);
  Parameter extra("out.c", Tensor::zeros(Shape{2}));
  expect_load_error(s.path, {&m.E, &m.W, &extra}, nullptr,
                    {"missing parameter 'out.c' ([2] float32)", "unexpected tensor 'out.b' in the file"});
}

TEST(Checkpoint, OptimizerMismatches) {
  Saved without(false);
  TinyModel m(5);
  optim::Adam adam(m.params());
  expect_load_error(without.path, m.params(), &adam, {"the file has no optimizer state"});

  Saved with;
  optim::Sgd sgd(m.params(), optim::SgdOptions().momentum(0.9));
  expect_load_error(with.path, m.params(), &sgd, {"optimizer state is for 'adam', this optimizer is 'sgd'"});

  // The optimizer also tracks a parameter the file has no state for.
  Parameter extra("extra", Tensor::zeros(Shape{2}));
  optim::Adam bigger({&m.E, &m.W, &m.b, &extra});
  expect_load_error(with.path, m.params(), &bigger, {"missing optimizer state 'extra/adam/m'"});
}

TEST(Checkpoint, SaveRejectsReservedNames) {
  TempDir dir;
  TinyModel m(1);
  EXPECT_THROW(save_checkpoint(dir.file("a"), m.params(), nullptr, {{"flare.x", "1"}}), Error);
  Parameter clash("optimizer/x", Tensor::zeros(Shape{1}));
  EXPECT_THROW(save_checkpoint(dir.file("a"), {&clash}), Error);
  EXPECT_THROW(save_checkpoint(dir.file("a"), {&m.W, &m.W}), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("a")));
}

}  // namespace
}  // namespace flare::train
