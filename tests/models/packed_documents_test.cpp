// Documents packed into one sequence (data.pack: documents): no token attends across a
// document boundary, positions restart per document, and the packed batch's loss is the
// documents' losses together.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/batch.h"
#include "models/attention.h"
#include "models/builtin_models.h"
#include "models/model_registry.h"
#include "models/next_token_loss.h"
#include "models/transformer_block.h"

namespace stratum::models {
namespace {

ModelPtr tiny_gpt(PositionEncoding positions, bool recompute = false) {
  torch::manual_seed(11);
  ModelRegistry registry{"model"};
  register_builtin_models(registry);
  ModelOptions options;
  options.name = "gpt-tiny";
  options.layers = 2, options.width = 32, options.heads = 4, options.mlp_hidden = 64, options.dropout = 0.0;
  options.context = 24;
  options.positions = positions;
  ModelPtr model = build_model(registry, options, data::byte_token_spec(24));
  for (const auto& module : model->modules()) {
    if (auto* block = dynamic_cast<TransformerBlock*>(module.get())) block->recompute = recompute;
  }
  model->eval();
  return model;
}

// Three documents of 6, 9 and 5 tokens packed into one row of 20, with their segments.
struct Packed {
  std::vector<torch::Tensor> documents;
  torch::Tensor row, segments;
};

Packed packed_row() {
  torch::manual_seed(3);
  Packed p;
  std::vector<torch::Tensor> numbers;
  int64_t n = 0;
  for (const int64_t length : {6, 9, 5}) {
    p.documents.push_back(torch::randint(0, 256, {length}, torch::kInt64));
    numbers.push_back(torch::full({length}, n++, torch::kInt64));
  }
  p.row = torch::cat(p.documents).unsqueeze(0);
  p.segments = torch::cat(numbers).unsqueeze(0);
  return p;
}

TEST(PackedDocuments, SegmentPositionsRestartAtEachDocument) {
  const torch::Tensor segments = torch::tensor({{0, 0, 0, 1, 1, 2, 2, 2, 2}, {4, 4, 4, 4, 4, 4, 5, 5, 5}});
  const torch::Tensor expected = torch::tensor({{0, 1, 2, 0, 1, 0, 1, 2, 3}, {0, 1, 2, 3, 4, 5, 0, 1, 2}});
  EXPECT_TRUE(segment_positions(segments).equal(expected));
}

// Each document's logits in the packed row equal its logits alone, with rotary and learned
// positions, and changing one document's tokens changes no other document's logits.
TEST(PackedDocuments, NoTokenAttendsAcrossADocumentBoundary) {
  for (const PositionEncoding positions : {PositionEncoding::learned, PositionEncoding::rotary}) {
    SCOPED_TRACE(positions == PositionEncoding::learned ? "learned" : "rotary");
    ModelPtr model = tiny_gpt(positions);
    torch::NoGradGuard no_grad;
    const Packed p = packed_row();
    data::Batch packed{p.row, {}};
    packed.segments = p.segments;
    const torch::Tensor logits = model->forward(packed)[0];  // (20, V)
    int64_t start = 0;
    for (const torch::Tensor& document : p.documents) {
      const torch::Tensor alone = model->forward(data::Batch{document.unsqueeze(0), {}})[0];
      EXPECT_TRUE(torch::allclose(logits.narrow(0, start, document.size(0)), alone, 1e-5, 1e-5));
      start += document.size(0);
    }
    // Without segments the later documents see the earlier ones: the check has power.
    const torch::Tensor unmasked = model->forward(data::Batch{p.row, {}})[0];
    EXPECT_FALSE(torch::allclose(unmasked.narrow(0, 6, 9), logits.narrow(0, 6, 9), 1e-3, 1e-3));

    torch::Tensor changed = p.row.clone();
    changed.narrow(1, 0, 6).random_(0, 256);
    data::Batch other{changed, {}};
    other.segments = p.segments;
    const torch::Tensor after = model->forward(other)[0];
    EXPECT_TRUE(torch::allclose(after.narrow(0, 6, 14), logits.narrow(0, 6, 14), 1e-5, 1e-5));
  }
}

// Packed, the summed loss has the gradients of the documents' summed losses taken one by one,
// also when blocks recompute their activations in the backward pass (the segments travel
// with the recomputation).
TEST(PackedDocuments, PackedGradientsAreThePerDocumentGradients) {
  for (const bool recompute : {false, true}) {
    SCOPED_TRACE(recompute ? "recompute" : "kept activations");
    ModelPtr model = tiny_gpt(PositionEncoding::learned, recompute);
    model->train();  // recomputation happens in training only (dropout is 0)
    const Packed p = packed_row();
    const int64_t t = p.row.size(1) - 1;
    data::Batch window{p.row.narrow(1, 0, t), p.row.narrow(1, 1, t).clone()};
    window.segments = p.segments.narrow(1, 0, t);
    window.targets.masked_fill_(p.segments.narrow(1, 1, t).ne(window.segments), -100);
    model->zero_grad();
    next_token_loss_terms(model->forward(window), next_token_sequence(window), -1).sum.backward();
    std::vector<torch::Tensor> packed;
    for (const auto& parameter : model->parameters()) packed.push_back(parameter.grad().clone());
    model->zero_grad();
    for (const torch::Tensor& document : p.documents) {
      const torch::Tensor tokens = document.unsqueeze(0);
      next_token_loss_terms(model->forward(data::Batch{tokens, {}}), tokens, -1).sum.backward();
    }
    const auto parameters = model->parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      EXPECT_TRUE(torch::allclose(packed[i], parameters[i].grad(), 1e-4, 1e-5)) << "parameter " << i;
    }
  }
}

// The loss over a packed batch (targets -100 where they would cross into the next document)
// sums and counts exactly the per-document next-token losses.
TEST(PackedDocuments, PackedLossEqualsThePerDocumentLosses) {
  ModelPtr model = tiny_gpt(PositionEncoding::rotary);
  torch::NoGradGuard no_grad;
  const Packed p = packed_row();
  // A window: inputs are the row's first 19 tokens, targets its last 19, -100 at boundaries.
  const int64_t t = p.row.size(1) - 1;
  data::Batch window{p.row.narrow(1, 0, t), p.row.narrow(1, 1, t).clone()};
  window.segments = p.segments.narrow(1, 0, t);
  window.targets.masked_fill_(p.segments.narrow(1, 1, t).ne(window.segments), -100);
  const TokenLoss packed = next_token_loss_terms(model->forward(window), next_token_sequence(window), -1);
  double sum = 0;
  int64_t count = 0;
  for (const torch::Tensor& document : p.documents) {
    const torch::Tensor tokens = document.unsqueeze(0);
    const TokenLoss alone = next_token_loss_terms(model->forward(data::Batch{tokens, {}}), tokens, -1);
    sum += alone.sum.item<double>();
    count += alone.count.item<int64_t>();
  }
  EXPECT_EQ(packed.count.item<int64_t>(), count);  // 5 + 8 + 4: the last document has no 20th token
  EXPECT_EQ(count, 17);
  EXPECT_NEAR(packed.sum.item<double>(), sum, 1e-4);
}

}  // namespace
}  // namespace stratum::models
