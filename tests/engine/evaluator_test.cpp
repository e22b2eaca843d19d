#include "engine/evaluator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace stratum {
namespace {

// Logits are the inputs themselves: a model that is right whenever the inputs say so.
class Echo : public models::Model {
 public:
  torch::Tensor forward(const data::Batch& batch) override { return batch.inputs; }
};

TEST(Evaluator, CappedEvaluationSpansEveryClassOfALabelSortedSplit) {
  const torch::Tensor labels = torch::arange(10, torch::kInt64).repeat_interleave(100);  // 0 x100, 1 x100, ...
  const data::TensorDataset dataset{torch::one_hot(labels, 10).to(torch::kFloat32), labels, {}};
  EvalOptions options;
  options.max_samples = 100;
  options.batch_size = 32;
  Echo model;
  const SplitEvaluation e = evaluate_split(model, dataset, "seen", 10, -1, options, torch::kCPU);
  EXPECT_EQ(e.samples, 100);
  for (int64_t c = 0; c < 10; ++c) EXPECT_EQ(e.confusion.count(c, c), 10) << "class " << c;
  EXPECT_DOUBLE_EQ(e.scores.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(e.scores.macro_f1, 1.0);
  EXPECT_GT(e.loss, 0.0);
  EXPECT_TRUE(model.is_training());  // restored after evaluation
}

}  // namespace
}  // namespace stratum
