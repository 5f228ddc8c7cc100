#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "flare/error.h"
#include "flare/optim.h"
#include "flare/train/checkpoint.h"
#include "flare/train/trainer.h"
#include "train/progress.h"
#include "train/train_test_util.h"

namespace flare::train {
namespace {

using testing::TempDir;
using testing::TinyModel;

std::vector<nlohmann::json> read_log(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Everything written to a temporary FILE* (not a terminal).
std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t k;
  while ((k = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, k);
  return s;
}

std::vector<std::pair<int32_t, int32_t>> dataset(int64_t n) {
  std::vector<std::pair<int32_t, int32_t>> d;
  for (int64_t i = 0; i < n; ++i) d.push_back(testing::tiny_example(i));
  return d;
}

TEST(Trainer, EpochOrderIsASeededPermutation) {
  Parameter p("p", Tensor::zeros(Shape{1}));
  Trainer a({&p}, nullptr, TrainerOptions().seed(7));
  Trainer b({&p}, nullptr, TrainerOptions().seed(8));
  const std::vector<size_t> o0 = a.epoch_order(50, 0);
  EXPECT_EQ(std::set<size_t>(o0.begin(), o0.end()).size(), 50u);
  EXPECT_EQ(*std::max_element(o0.begin(), o0.end()), 49u);
  EXPECT_EQ(o0, a.epoch_order(50, 0));
  EXPECT_NE(o0, a.epoch_order(50, 1));
  EXPECT_NE(o0, b.epoch_order(50, 0));
  // Pinned (computed by an independent Python transcription of SplitMix64 + Fisher-Yates): the
  // order must not change between machines or releases, since resumed runs rely on it.
  EXPECT_EQ(a.epoch_order(6, 0), (std::vector<size_t>{5, 4, 1, 3, 0, 2}));
  EXPECT_EQ(a.epoch_order(6, 3), (std::vector<size_t>{0, 2, 4, 1, 3, 5}));
  Trainer plain({&p}, nullptr, TrainerOptions().shuffle(false));
  EXPECT_EQ(plain.epoch_order(4, 9), (std::vector<size_t>{0, 1, 2, 3}));
}

TEST(Trainer, TrainsLogsAndKeepsTheBestCheckpoint) {
  TempDir dir;
  TinyModel m(1);
  optim::Sgd opt(m.params(), optim::SgdOptions(0.2));
  auto data = dataset(40);
  std::FILE* progress = std::tmpfile();
  Trainer trainer(m.params(), &opt,
                  TrainerOptions().epochs(3).best_checkpoint(dir.file("best.safetensors"))
                      .log_path(dir.file("log.jsonl")).progress_stream(progress));
  Graph g;
  const std::vector<double> metrics = {0.5, 0.8, 0.7};
  int evals = 0;
  std::vector<double> values_at_best;
  FitResult r = trainer.fit(
      data, [&](const std::pair<int32_t, int32_t>& ex) { return m.backprop(g, ex.first, ex.second); },
      [&] {
        if (evals == 1) values_at_best = m.W.value().to_vector();
        return metrics[size_t(evals++)];
      });

  ASSERT_EQ(r.epochs.size(), 3u);
  EXPECT_LT(r.epochs[2].loss, r.epochs[0].loss);  // it learns
  EXPECT_EQ(opt.step_count(), 3 * 40);
  EXPECT_EQ(r.best_epoch, 2);
  EXPECT_EQ(r.best_metric, 0.8);
  EXPECT_FALSE(r.out_of_time);

  const std::vector<nlohmann::json> log = read_log(dir.file("log.jsonl"));
  ASSERT_EQ(log.size(), 3u);
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(log[size_t(e)]["epoch"], e + 1);
    EXPECT_EQ(log[size_t(e)]["examples"], 40);
    EXPECT_EQ(log[size_t(e)]["metric"], metrics[size_t(e)]);
    EXPECT_EQ(log[size_t(e)]["best"], e != 2);
    EXPECT_DOUBLE_EQ(log[size_t(e)]["loss"].get<double>(), r.epochs[size_t(e)].loss);
    EXPECT_EQ(log[size_t(e)]["lr"], 0.2);
    EXPECT_TRUE(log[size_t(e)].contains("items_per_s"));
    EXPECT_FALSE(log[size_t(e)].contains("stopped"));
  }

  // The checkpoint holds epoch 2's parameters.
  TinyModel fresh(5);
  io::Metadata meta = load_checkpoint(dir.file("best.safetensors"), fresh.params());
  EXPECT_EQ(meta.at("epoch"), "2");
  EXPECT_EQ(meta.at("metric"), "0.8");
  EXPECT_EQ(fresh.W.value().to_vector(), values_at_best);

  // Not a terminal, and short epochs: one plain summary line per epoch.
  const std::string text = read_all(progress);
  std::fclose(progress);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_EQ(text.rfind("epoch 1/3: 40 examples in ", 0), 0u) << text;
  EXPECT_NE(text.find("epoch 2/3: 40 examples in "), std::string::npos) << text;
  EXPECT_NE(text.find("metric 0.8000  (best)"), std::string::npos) << text;
}

TEST(Trainer, RestoresTheBestAndHonoursLowerIsBetter) {
  TempDir dir;
  TinyModel m(1);
  optim::Adam opt(m.params(), optim::AdamOptions(0.05));
  Trainer trainer(m.params(), &opt,
                  TrainerOptions().epochs(3).higher_is_better(false).restore_best(true)
                      .best_checkpoint(dir.file("best")).progress_stream(nullptr));
  Graph g;
  const std::vector<double> perplexity = {9, 4, 6};
  int evals = 0;
  std::vector<double> at_best;
  FitResult r = trainer.fit(dataset(10), [&](const auto& ex) { return m.backprop(g, ex.first, ex.second); },
                            [&] {
                              if (evals == 1) at_best = m.E.value().to_vector();
                              return perplexity[size_t(evals++)];
                            });
  EXPECT_EQ(r.best_epoch, 2);
  EXPECT_EQ(m.E.value().to_vector(), at_best);
}

TEST(Trainer, AccumulatesUpdatesAndStepsSchedules) {
  TinyModel m(1);
  optim::Sgd opt(m.params(), optim::SgdOptions(1.0));
  optim::StepLR sched(opt, 1, 0.5);
  Trainer trainer(m.params(), &opt, TrainerOptions().epochs(2).update_every(3).clip_norm(0.5)
                                        .progress_stream(nullptr));
  trainer.set_scheduler(&sched);
  Graph g;
  FitResult r = trainer.fit(size_t(7), [&](size_t i) {
    auto [id, label] = testing::tiny_example(int64_t(i));
    return m.backprop(g, id, label);
  });
  EXPECT_EQ(opt.step_count(), 2 * 3);  // ceil(7 / 3) per epoch
  EXPECT_EQ(opt.lr(), 0.25);           // two epoch steps of StepLR(gamma 0.5)
  EXPECT_EQ(r.epochs[0].lr, 1.0);      // the lr each epoch trained with
  EXPECT_EQ(r.epochs[1].lr, 0.5);
}

// set_before_update: called once before each update with the examples recorded since the last
// one (3, 3, 1 per epoch of 7 with update_every 3), its loss added to the epoch's mean; without
// pending examples it is not called.
TEST(Trainer, FlushesLazyExamplesBeforeEachUpdate) {
  TinyModel m(1);
  optim::Sgd opt(m.params(), optim::SgdOptions(0.1));
  Trainer trainer(m.params(), &opt, TrainerOptions().epochs(2).update_every(3).progress_stream(nullptr));
  std::vector<size_t> recorded, flushed_sizes;
  int64_t steps_seen = 0;
  trainer.set_before_update([&] {
    EXPECT_EQ(opt.step_count(), steps_seen);  // called before the step, not after
    flushed_sizes.push_back(recorded.size());
    const double loss = 2.0 * double(recorded.size());
    recorded.clear();
    ++steps_seen;
    return loss;
  });
  FitResult r = trainer.fit(size_t(7), [&](size_t i) {
    recorded.push_back(i);
    return 0.0;
  });
  EXPECT_EQ(flushed_sizes, (std::vector<size_t>{3, 3, 1, 3, 3, 1}));
  EXPECT_EQ(opt.step_count(), 6);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_DOUBLE_EQ(r.epochs[0].loss, 2.0);  // 7 examples, each flushed at loss 2
}

TEST(Trainer, ClipsBeforeEachUpdate) {
  // One SGD update with lr 1 moves the parameters by exactly the clipped gradient.
  TinyModel m(1);
  std::vector<double> before;
  for (Parameter* p : m.params())
    for (double v : p->value().to_vector()) before.push_back(v);
  optim::Sgd opt(m.params(), optim::SgdOptions(1.0));
  Trainer trainer(m.params(), &opt, TrainerOptions().clip_norm(0.1).shuffle(false).progress_stream(nullptr));
  Graph g;
  trainer.fit(size_t(1), [&](size_t) { return m.backprop(g, 4, 2); });
  double moved = 0;
  size_t k = 0;
  for (Parameter* p : m.params())
    for (double v : p->value().to_vector()) moved += (v - before[k]) * (v - before[k]), ++k;
  EXPECT_NEAR(std::sqrt(moved), 0.1, 1e-6);
}

TEST(Trainer, ResumedRunMatchesAnUninterruptedOne) {
  TempDir dir;
  auto data = dataset(12);
  auto run = [&](TinyModel& m, optim::Optimizer& opt, TrainerOptions o) {
    Graph g;
    Trainer t(m.params(), &opt, o.progress_stream(nullptr).update_every(2));
    return t.fit(data, [&](const auto& ex) { return m.backprop(g, ex.first, ex.second); });
  };
  TinyModel a(1);
  optim::Adam oa(a.params(), optim::AdamOptions(0.02));
  run(a, oa, TrainerOptions().epochs(4).log_path(dir.file("a.jsonl")));

  {
    TinyModel b(1);
    optim::Adam ob(b.params(), optim::AdamOptions(0.02));
    // Without evaluate the checkpoint is saved after every epoch: it holds epoch 2.
    run(b, ob, TrainerOptions().epochs(2).best_checkpoint(dir.file("ckpt")).log_path(dir.file("b.jsonl")));
  }
  TinyModel c(3);
  optim::Adam oc(c.params(), optim::AdamOptions(0.02));
  EXPECT_EQ(load_checkpoint(dir.file("ckpt"), c.params(), &oc).at("epoch"), "2");
  run(c, oc, TrainerOptions().epochs(4).start_epoch(2).log_path(dir.file("b.jsonl")));

  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(a.params()[i]->value().to_vector(), c.params()[i]->value().to_vector()) << a.params()[i]->name();
  // The resumed log was appended to: four epochs, numbered 1..4, the same losses.
  const auto la = read_log(dir.file("a.jsonl")), lb = read_log(dir.file("b.jsonl"));
  ASSERT_EQ(lb.size(), 4u);
  for (size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(lb[e]["epoch"], int(e + 1));
    EXPECT_EQ(lb[e]["loss"], la[e]["loss"]);
  }
}

TEST(Trainer, StopsAtTheTimeBudget) {
  TempDir dir;
  TinyModel m(1);
  optim::Sgd opt(m.params());
  Trainer trainer(m.params(), &opt, TrainerOptions().epochs(1000).time_budget_s(0.05)
                                        .log_path(dir.file("log")).progress_stream(nullptr));
  Graph g;
  int evals = 0;
  const auto t0 = std::chrono::steady_clock::now();
  FitResult r = trainer.fit(size_t(5), [&](size_t i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(4));
    return m.backprop(g, int32_t(i), 0);
  }, [&] { return double(++evals); });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(r.out_of_time);
  EXPECT_LT(r.epochs.size(), 10u);
  EXPECT_LT(secs, 5.0);
  EXPECT_EQ(size_t(evals), r.epochs.size());  // the last, partial epoch is evaluated too
  EXPECT_TRUE(r.epochs.back().out_of_time);
  const auto log = read_log(dir.file("log"));
  EXPECT_EQ(log.back()["stopped"], "time_budget");
  EXPECT_EQ(log.size(), r.epochs.size());
}

TEST(Trainer, RejectsBadOptions) {
  Parameter p("p", Tensor::zeros(Shape{1}));
  EXPECT_THROW(Trainer({&p}, nullptr, TrainerOptions().epochs(0)), Error);
  EXPECT_THROW(Trainer({&p}, nullptr, TrainerOptions().update_every(0)), Error);
  EXPECT_THROW(Trainer({&p}, nullptr, TrainerOptions().restore_best(true)), Error);
  EXPECT_THROW(Trainer({&p}, nullptr, TrainerOptions().time_budget_s(-1)), Error);
  Trainer t({&p}, nullptr, TrainerOptions().progress_stream(nullptr));
  EXPECT_THROW(t.fit(size_t(0), [](size_t) { return 0.0; }), Error);
  TempDir dir;
  Trainer bad_log({&p}, nullptr, TrainerOptions().log_path(dir.file("no/such/dir/log")).progress_stream(nullptr));
  EXPECT_THROW(bad_log.fit(size_t(1), [](size_t) { return 0.0; }), IoError);
}

TEST(Progress, FormatsLinesAndDurations) {
  EXPECT_EQ(detail::format_duration(65), "1:05");
  EXPECT_EQ(detail::format_duration(3600 * 12 + 7), "12:00:07");
  EXPECT_EQ(detail::format_duration(NAN), "?");
  detail::Progress p(nullptr, false);
  p.begin_epoch(2, 5, 1000);
  EXPECT_EQ(p.line(250, 0.5, 2.0), "epoch 2/5  25% 250/1000  125.0 it/s  loss 0.5000  ETA 0:06");
}

TEST(Progress, PlainLinesAtEachTenth) {
  std::FILE* f = std::tmpfile();
  detail::Progress p(f, false, /*plain_interval_s=*/0.0);
  p.begin_epoch(3, 4, 20);
  for (int i = 1; i <= 20; ++i) p.update(i, 0.25);
  p.end_epoch(20, 0.25, 0.75, true, 2.0, 3.0, true);
  const std::string s = read_all(f);
  std::fclose(f);
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 10) << s;  // 10%..90%, then the summary
  EXPECT_EQ(s.rfind("epoch 3/4  10% 2/20  ", 0), 0u) << s;
  EXPECT_NE(s.find("\nepoch 3/4  90% 18/20  "), std::string::npos) << s;
  EXPECT_NE(s.find("\nepoch 3/4: 20 examples in 0:03 (10.0 it/s)  loss 0.2500  metric 0.7500  (best)"
                   "  [time budget reached]\n"),
            std::string::npos) << s;
}

TEST(Progress, RedrawsInPlaceOnATerminal) {
  std::FILE* f = std::tmpfile();
  detail::Progress p(f, true);
  p.begin_epoch(1, 1, 4);
  for (int i = 1; i <= 4; ++i) p.update(i, 1.0);
  p.end_epoch(4, 1.0, NAN, false, 0.5, 0.6, false);
  const std::string s = read_all(f);
  std::fclose(f);
  EXPECT_EQ(s.rfind("\r", 0), 0u) << s;
  EXPECT_NE(s.find("[========================]"), std::string::npos) << s;  // the full bar
  EXPECT_NE(s.find("epoch 1/1: 4 examples in 0:01 (8.0 it/s)  loss 1.0000\n"), std::string::npos) << s;
}

}  // namespace
}  // namespace flare::train
