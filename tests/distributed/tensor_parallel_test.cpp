// Tensor parallelism with two (or three) ranks as threads of this process over Gloo: a split
// gpt-tiny (uneven vocabulary, LoRA on every linear layer) computes the unsplit model's logits,
// loss and gradients; clipping, whole checkpoints of parameters and optimizer state, the mesh's
// rank layout and the refusals.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <mutex>

#include "adapters/lora.h"
#include "core/error.h"
#include "models/next_token_loss.h"
#include "distributed/mesh.h"
#include "distributed/tensor_parallel.h"
#include "models/adaptable_linear.h"
#include "models/cnn.h"
#include "models/gpt.h"
#include "models/transformer_block.h"
#include "support/thread_ranks.h"
#include "support/tiny_models.h"
#include "support/user_error.h"

namespace stratum::distributed {
namespace {

using ::testing::HasSubstr;

constexpr double kTolerance = 1e-5;

// The global generator is shared by the rank threads: models are built one at a time.
std::mutex building;

// A 2-layer GPT, 32 wide, 4 heads, 37 tokens (an uneven split over 2 ranks), LoRA (rank 4) on
// every linear layer with B made non-zero so that A gets gradients too.
std::shared_ptr<models::GPT> tiny_gpt(bool lora, bool recompute = false) {
  std::lock_guard<std::mutex> lock(building);
  torch::manual_seed(11);
  models::TransformerShape shape = models::gpt_preset("tiny");
  shape.width = 32, shape.heads = 4, shape.mlp_hidden = 64, shape.vocab_size = 37, shape.context = 12;
  auto model = std::make_shared<models::GPT>(shape);
  for (const auto& block : *model->blocks) block->as<models::TransformerBlock>()->recompute = recompute;
  if (lora) {
    adapters::LoraOptions options;
    options.rank = 4, options.dropout = 0;
    options.targets = {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"};
    adapters::apply_lora(*model, options);
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_parameters()) {
      if (item.key().size() > 7 && item.key().substr(item.key().size() - 7) == ".lora.B") item.value().normal_(0, 0.05);
    }
  }
  return model;
}

data::Batch token_batch() {
  data::Batch batch;
  batch.inputs = (torch::arange(3 * 12, torch::kInt64).view({3, 12}) * 7 + 3) % 37;
  batch.inputs[2].narrow(0, 8, 4).fill_(0);  // padding (token 0) at the end of one row
  return batch;
}

std::map<std::string, torch::Tensor> gradients_of(const torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model.named_parameters()) {
    if (item.value().grad().defined()) out[item.key()] = item.value().grad().clone();
  }
  return out;
}

struct Reference {
  torch::Tensor logits, loss;
  std::map<std::string, torch::Tensor> gradients;
};

Reference unsplit(bool lora) {
  auto model = tiny_gpt(lora);  // (recomputing or not gives the same gradients: models tests)
  Reference out;
  model->eval();
  out.logits = model->forward(token_batch()).detach();
  model->train();
  out.loss = next_token_loss(model->forward(token_batch()), token_batch().inputs, /*pad_token=*/0);
  out.loss.backward();
  out.gradients = gradients_of(*model);
  return out;
}

void expect_split_equals_unsplit(bool lora, bool recompute = false) {
  const Reference reference = unsplit(lora);
  testing::on_ranks(2, [&](ProcessGroup& group, int rank) {
    auto model = tiny_gpt(lora, recompute);
    TensorParallel split(group);
    EXPECT_THAT(split.split(*model), HasSubstr("2 attention layers and their MLPs split, vocabulary " +
                                               std::string(rank == 0 ? "0-18" : "19-36") + " of 37"));
    EXPECT_EQ(model->token_embedding->weight.size(0), rank == 0 ? 19 : 18);
    EXPECT_EQ(model->blocks[0]->as<models::TransformerBlock>()->attn->heads(), 2);

    model->eval();
    const torch::Tensor logits = model->forward(token_batch());
    EXPECT_TRUE(torch::allclose(logits, reference.logits, kTolerance, kTolerance)) << "rank " << rank;

    model->train();
    const torch::Tensor local_logits = model->forward(token_batch());
    EXPECT_EQ(local_logits.size(2), rank == 0 ? 19 : 18);  // this rank's vocabulary slice
    const torch::Tensor loss = split.next_token_loss(local_logits, token_batch().inputs, 0);
    EXPECT_NEAR(loss.item<double>(), reference.loss.item<double>(), kTolerance);
    loss.backward();

    std::map<std::string, torch::Tensor> grads = gradients_of(*model);
    for (const auto& s : split.split_parameters()) {
      if (s.parameter.grad().defined()) grads[s.name] = s.layout.gather(group, s.parameter.grad());
    }
    EXPECT_EQ(grads.size(), reference.gradients.size());
    for (const auto& [name, expected] : reference.gradients) {
      ASSERT_TRUE(grads.count(name)) << name;
      EXPECT_TRUE(torch::allclose(grads[name], expected, kTolerance, kTolerance))
          << name << " on rank " << rank << ": max difference " << (grads[name] - expected).abs().max().item<double>();
    }
  });
}

TEST(TensorParallel, SplitGptComputesTheUnsplitLogitsLossAndGradients) { expect_split_equals_unsplit(false); }

TEST(TensorParallel, LoraOnSplitLayersComputesTheUnsplitGradients) { expect_split_equals_unsplit(true); }

// A checkpointed block replays its forward pass, collectives included, during backward.
TEST(TensorParallel, GradientCheckpointedSplitBlocksComputeTheUnsplitGradients) {
  expect_split_equals_unsplit(false, /*recompute=*/true);
}

// Models whose blocks are split but whose heads are not: the text classifier (padding masks
// the keys) and the ViT; their logits are whole on every rank.
void expect_split_classifier_equals_unsplit(const std::string& name, const data::Batch& batch) {
  const auto build = [&] {
    std::lock_guard<std::mutex> lock(building);
    return stratum::testing::tiny_model(name, 21);
  };
  auto reference = build();
  const torch::Tensor expected = reference->forward(batch);
  torch::nn::functional::cross_entropy(expected, batch.targets).backward();
  const auto expected_grads = gradients_of(*reference);
  testing::on_ranks(2, [&](ProcessGroup& group, int rank) {
    auto model = build();
    TensorParallel split(group);
    split.split(*model);
    const torch::Tensor logits = model->forward(batch);
    EXPECT_TRUE(torch::allclose(logits, expected, kTolerance, kTolerance)) << name << " on rank " << rank;
    torch::nn::functional::cross_entropy(logits, batch.targets).backward();
    std::map<std::string, torch::Tensor> grads = gradients_of(*model);
    for (const auto& s : split.split_parameters()) grads[s.name] = s.layout.gather(group, s.parameter.grad());
    for (const auto& [key, g] : expected_grads) {
      EXPECT_TRUE(torch::allclose(grads[key], g, kTolerance, kTolerance)) << name << " " << key << " on rank " << rank;
    }
  });
}

TEST(TensorParallel, SplitTextClassifierAndVitComputeTheUnsplitLogitsAndGradients) {
  data::Batch text;
  text.inputs = (torch::arange(4 * 16, torch::kInt64).view({4, 16}) * 5 + 1) % 16;
  text.inputs[1].narrow(0, 10, 6).fill_(256);  // padding (byte_token_spec's pad token)
  text.targets = torch::tensor({0, 2, 1, 2}, torch::kInt64);
  expect_split_classifier_equals_unsplit("text-classifier", text);
  data::Batch images;
  images.inputs = torch::sin(torch::arange(2 * 256, torch::kFloat32).view({2, 1, 16, 16}) * 0.37);
  images.targets = torch::tensor({1, 0}, torch::kInt64);
  expect_split_classifier_equals_unsplit("vit-tiny", images);
}

TEST(TensorParallel, ClipsByTheWholeModelsGradientNorm) {
  auto reference = tiny_gpt(false);
  next_token_loss(reference->forward(token_batch()), token_batch().inputs, 0).backward();
  const double expected_norm = torch::nn::utils::clip_grad_norm_(reference->parameters(), 0.1);
  const auto expected = gradients_of(*reference);
  testing::on_ranks(2, [&](ProcessGroup& group, int rank) {
    auto model = tiny_gpt(false);
    TensorParallel split(group);
    split.split(*model);
    split.next_token_loss(model->forward(token_batch()), token_batch().inputs, 0).backward();
    EXPECT_NEAR(split.clip_gradient_norm(*model, 0.1), expected_norm, 1e-5 * expected_norm);
    split.gather_whole(nullptr);  // gradients stay split: compare them through the layouts
    split.restore_split();
    std::map<std::string, torch::Tensor> grads = gradients_of(*model);
    for (const auto& s : split.split_parameters()) grads[s.name] = s.layout.gather(group, s.parameter.grad());
    for (const auto& [name, g] : expected) {
      EXPECT_TRUE(torch::allclose(grads[name], g, kTolerance, kTolerance)) << name << " on rank " << rank;
    }
  });
}

// A large epsilon: gradients that are zero up to rounding (the key bias's) would otherwise
// become full-size Adam steps of either sign, different in the split and unsplit models.
torch::optim::AdamWOptions adamw() { return torch::optim::AdamWOptions(1e-2).eps(1e-3); }

TEST(TensorParallel, GathersParametersAndOptimizerStateWholeAndSplitsThemAgain) {
  auto reference = tiny_gpt(false);
  torch::optim::AdamW reference_optimizer(reference->parameters(), adamw());
  next_token_loss(reference->forward(token_batch()), token_batch().inputs, 0).backward();
  reference_optimizer.step();
  testing::on_ranks(2, [&](ProcessGroup& group, int rank) {
    auto model = tiny_gpt(false);
    TensorParallel split(group);
    split.split(*model);
    torch::optim::AdamW optimizer(model->parameters(), adamw());
    split.next_token_loss(model->forward(token_batch()), token_batch().inputs, 0).backward();
    optimizer.step();
    const torch::Tensor local_qkv = model->blocks[0]->as<models::TransformerBlock>()->attn->qkv->weight.detach().clone();

    split.gather_whole(&optimizer);
    const auto whole = model->named_parameters();
    for (const auto& item : reference->named_parameters()) {
      EXPECT_TRUE(torch::allclose(whole[item.key()], item.value(), kTolerance, kTolerance)) << item.key();
    }
    // The moment estimates, gathered the same way: what optimizer.pt holds.
    std::ostringstream saved;
    torch::save(optimizer, saved);
    split.restore_split();
    auto& qkv = model->blocks[0]->as<models::TransformerBlock>()->attn->qkv->weight;
    EXPECT_TRUE(qkv.equal(local_qkv));

    // A resumed rank: whole optimizer state loaded into the split model, then split.
    torch::optim::AdamW resumed(model->parameters(), adamw());
    std::istringstream in(saved.str());
    torch::load(resumed, in);
    split.split_optimizer_state(resumed);
    std::ostringstream mine, again;
    torch::save(optimizer, mine);
    torch::save(resumed, again);
    EXPECT_EQ(mine.str().size(), again.str().size());
    optimizer.step();  // both take one more step on the same gradients
    const torch::Tensor stepped = qkv.detach().clone();
    qkv.data().copy_(local_qkv);
    resumed.step();
    EXPECT_TRUE(torch::allclose(qkv, stepped, 1e-6, 1e-6)) << "rank " << rank;
  });
}

TEST(TensorParallel, RefusesWhatItCannotSplit) {
  testing::on_ranks(2, [&](ProcessGroup& group, int) {
    models::TransformerShape shape = models::gpt_preset("tiny");
    shape.width = 24, shape.heads = 3, shape.mlp_hidden = 48, shape.vocab_size = 20, shape.context = 8;
    std::shared_ptr<models::GPT> odd;
    {
      std::lock_guard<std::mutex> lock(building);
      odd = std::make_shared<models::GPT>(shape);
    }
    TensorParallel split(group);
    EXPECT_EQ(stratum::testing::user_error([&] { split.split(*odd); }),
              "distributed.tensor_parallel: 2: the model's 3 attention heads (model.heads) do not split evenly over 2 ranks");
    models::ModelOptions options;
    options.channels = {4};
    data::DataSpec spec;
    spec.input_shape = {1, 8, 8};
    spec.num_classes = 2;
    models::CNN cnn(options, spec);
    EXPECT_EQ(stratum::testing::user_error([&] { TensorParallel(group).split(cnn); }),
              "distributed.tensor_parallel: 2: the model has no transformer blocks to split (tensor parallelism splits "
              "gpt-*, text-classifier and vit-* models, and plugin models that declare a tensor_parallel_plan)");
  });
}

// A model that is no transformer (as a plugin's would be) declares its own plan: two linear
// layers, the first split by columns and the second by rows, joined by one all-reduce. The
// split model computes the unsplit outputs and gradients; a group that does not divide is
// refused in the plan's own words, and a refusal is passed on as it is.
class TwoLayerPerceptron : public models::Model {
 public:
  TwoLayerPerceptron() {
    up = register_module("up", models::AdaptableLinear(6, 8));
    down = register_module("down", models::AdaptableLinear(8, 3));
  }
  torch::Tensor forward(const data::Batch& batch) override {
    return down->forward(torch::relu(up->forward(batch.inputs)));  // (B, 6) -> (B, 8) -> (B, 3)
  }
  models::TensorParallelPlan tensor_parallel_plan() override {
    models::ShardGroupPlan hidden;
    hidden.units_owner = "the perceptron's";
    hidden.units_name = "hidden units (model.hidden)";
    hidden.units = up->weight.size(0);
    hidden.linears = {{"up", up.get(), models::LinearSplit::Kind::column, 1},
                      {"down", down.get(), models::LinearSplit::Kind::row, 1}};
    hidden.refusal = refusal;
    hidden.after_split = [this](int64_t local, std::shared_ptr<models::TensorParallelOps>, int64_t) { local_units = local; };
    models::TensorParallelPlan plan;
    plan.groups.push_back(std::move(hidden));
    plan.description = "1 hidden layer";
    return plan;
  }
  models::AdaptableLinear up{nullptr}, down{nullptr};
  std::string refusal;
  int64_t local_units = 0;
};

std::shared_ptr<TwoLayerPerceptron> perceptron() {
  std::lock_guard<std::mutex> lock(building);
  torch::manual_seed(5);
  return std::make_shared<TwoLayerPerceptron>();
}

TEST(TensorParallel, AModelsOwnPlanIsWhatGetsSplit) {
  data::Batch batch;
  batch.inputs = torch::linspace(-1, 1, 4 * 6).view({4, 6});
  auto whole = perceptron();
  const torch::Tensor expected = whole->forward(batch);
  expected.pow(2).sum().backward();
  testing::on_ranks(2, [&](ProcessGroup& group, int rank) {
    auto model = perceptron();
    TensorParallel split(group);
    EXPECT_THAT(split.split(*model), HasSubstr("tensor parallel rank " + std::to_string(rank) + " of 2: 1 hidden layer split; 3 split tensors"));
    EXPECT_EQ(model->local_units, 4);
    EXPECT_EQ(model->up->weight.size(0), 4);
    EXPECT_EQ(model->down->weight.size(1), 4);
    const torch::Tensor out = model->forward(batch);
    EXPECT_TRUE(torch::allclose(out, expected, kTolerance, kTolerance)) << "rank " << rank;
    out.pow(2).sum().backward();
    EXPECT_TRUE(torch::allclose(model->down->bias.grad(), whole->down->bias.grad(), kTolerance, kTolerance));
    for (const auto& s : split.split_parameters()) {
      const torch::Tensor expected_grad = s.name == "up.weight" ? whole->up->weight.grad()
                                          : s.name == "up.bias"  ? whole->up->bias.grad()
                                                                 : whole->down->weight.grad();
      EXPECT_TRUE(torch::allclose(s.layout.gather(group, s.parameter.grad()), expected_grad, kTolerance, kTolerance))
          << s.name << " on rank " << rank;
    }
  });
  testing::on_ranks(3, [&](ProcessGroup& group, int) {
    auto model = perceptron();
    EXPECT_EQ(stratum::testing::user_error([&] { TensorParallel(group).split(*model); }),
              "distributed.tensor_parallel: 3: the perceptron's 8 hidden units (model.hidden) do not split evenly over 3 ranks");
  });
  testing::on_ranks(2, [&](ProcessGroup& group, int) {
    auto model = perceptron();
    model->refusal = "its layers are tied";
    EXPECT_EQ(stratum::testing::user_error([&] { TensorParallel(group).split(*model); }),
              "distributed.tensor_parallel: 2: its layers are tied");
  });
}

// A member of a group that knows only its place in it: rank-local random numbers need no
// communication, and two ranks' draws are compared here in one thread (rank threads would
// share the process's generator).
class RankOnly : public Collectives {
 public:
  explicit RankOnly(int rank) : rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return 2; }
  void all_reduce_sum(at::Tensor&) override { unused(); }
  void all_reduce_max(at::Tensor&) override { unused(); }
  std::unique_ptr<PendingCollective> all_reduce_sum_async(at::Tensor&) override { unused(); }
  void broadcast(at::Tensor&, int) override { unused(); }
  std::string share_from_primary(const std::string&, const std::string&) override { unused(); }
  std::unique_ptr<GradientSynchronizer> data_parallel(torch::nn::Module&, int64_t) override { unused(); }

 private:
  [[noreturn]] static void unused() { throw std::logic_error("rank-local random numbers communicate"); }
  int rank_;
};

TEST(TensorParallel, RankLocalRandomNumbersDifferByRankReplayAndLeaveTheSharedStreamAlone) {
  RankOnly zero(0), one(1);
  const auto draw = [] { return torch::rand({64}); };
  const auto on = [&](Collectives& rank, int64_t stream) {
    torch::manual_seed(3);
    const torch::Tensor local = tensor_parallel_ops(rank)->with_rank_random(torch::kCPU, stream, draw);
    return std::make_pair(local, torch::rand({4}));  // and what the shared stream draws next
  };
  const auto [zero_draw, zero_next] = on(zero, 5);
  const auto [one_draw, one_next] = on(one, 5);
  torch::manual_seed(3);
  const torch::Tensor untouched = torch::rand({4});
  EXPECT_FALSE(zero_draw.equal(one_draw));          // heads on different ranks get different masks
  EXPECT_TRUE(zero_draw.equal(on(zero, 5).first));  // a checkpointed layer's replay draws the same
  EXPECT_FALSE(zero_draw.equal(on(zero, 6).first)); // another layer draws others
  EXPECT_TRUE(zero_next.equal(untouched));          // the replicated stream is where it was
  EXPECT_TRUE(one_next.equal(untouched));
}

TEST(Mesh, NeighbouringRanksSplitOneModelAndEveryNthRankIsAReplica) {
  testing::on_ranks(4, [&](ProcessGroup& group, int rank) {
    auto mesh = Mesh::form(group, 2);
    const ParallelGroups groups = mesh->groups();
    ASSERT_NE(groups.data, nullptr);
    ASSERT_NE(groups.tensor, nullptr);
    EXPECT_EQ(groups.tensor->group().rank(), rank % 2);
    EXPECT_EQ(groups.data->rank(), rank / 2);
    EXPECT_EQ(mesh->describe(), "4 ranks: 2 data-parallel × 2 tensor-parallel; this rank: replica " +
                                    std::to_string(rank / 2) + ", part " + std::to_string(rank % 2));
    // Sums over each group name its members: parts {0,1},{2,3}; replicas {0,2},{1,3}.
    torch::Tensor parts = torch::full({1}, static_cast<double>(rank), torch::kFloat64);
    groups.tensor->group().all_reduce_sum(parts);
    EXPECT_EQ(parts.item<double>(), rank < 2 ? 1 : 5);
    torch::Tensor replicas = torch::full({1}, static_cast<double>(rank), torch::kFloat64);
    groups.data->all_reduce_sum(replicas);
    EXPECT_EQ(replicas.item<double>(), rank % 2 == 0 ? 2 : 4);
    torch::Tensor largest = torch::full({1}, static_cast<double>(rank), torch::kFloat64);
    groups.world->all_reduce_max(largest);
    EXPECT_EQ(largest.item<double>(), 3);
  });
  EXPECT_THAT(stratum::testing::user_error([] {
                testing::on_ranks(3, [](ProcessGroup& group, int) {
                  group.barrier();  // no rank leaves (closing its connections) while another still connects
                  Mesh::form(group, 2);
                });
              }),
              HasSubstr("distributed.tensor_parallel: 2 does not divide the job's 3 ranks (WORLD_SIZE)"));
}

}  // namespace
}  // namespace stratum::distributed
