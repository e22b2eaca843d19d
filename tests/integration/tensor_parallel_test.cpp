// Tensor parallelism through `stratum launch` with real processes, Gloo on loopback: a 2×2 mesh
// (two replicas of a model split over two ranks) trains as one process on the doubled batch,
// and checkpoints are whole, so a run resumes at another tensor-parallel degree; dropout and
// LoRA keep the parts consistent.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/safetensors.h"
#include "integration/checkpoint_tensors.h"
#include "integration/training_run.h"
#include "support/free_port.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

// A small GPT without dropout on fortunes (gradient clipping on); `batch` examples per replica,
// two micro-batches per step, checkpoints every 4 steps.
std::string gpt_args(const TempDir& dir, int batch, int steps, const std::string& extra = "") {
  return std::string("train --config configs/gpt-fortunes.yaml") + kSmallText +
         " --set model.dropout=0 --set trainer.threads=1 --set trainer.grad_accum=2 --set trainer.checkpoint.every=4"
         " --set trainer.checkpoint.keep_last=4 --set trainer.steps=" + std::to_string(steps) +
         " --set trainer.batch_size=" + std::to_string(batch) + " --set run.output_dir=" + dir.path() + extra;
}

std::string launch(int processes, const std::string& worker) {
  return "launch --nproc-per-node " + std::to_string(processes) + " --master-port " + std::to_string(free_port()) +
         " -- " + worker;
}

constexpr double kTolerance = 1e-5;  // measured: 6.6e-7 (mesh), 4.8e-7 and 2.7e-7 (resumed)

TEST(TensorParallel, ATwoByTwoMeshTrainsAsOneProcessAndItsCheckpointsResumeAtAnyDegree) {
  TempDir one_dir, mesh_dir, resumed_dir, split_dir;
  const CommandResult one = run_stratum(gpt_args(one_dir, 8, 8));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const std::string one_run = run_directory(one);

  const CommandResult mesh = run_stratum(launch(4, gpt_args(mesh_dir, 4, 8, " --set distributed.tensor_parallel=2")));
  ASSERT_EQ(mesh.exit_code, 0) << mesh.out << mesh.err;
  EXPECT_THAT(mesh.out, HasSubstr("mesh: 4 ranks: 2 data-parallel × 2 tensor-parallel; this rank: replica 1, part 1"));
  EXPECT_THAT(mesh.out, HasSubstr("tensor parallel rank 1 of 2: 2 attention layers and their MLPs split"));
  EXPECT_THAT(mesh.out, HasSubstr("8 steps of 16 examples (77 steps per epoch); 2 data-parallel replicas of 4 examples"));
  EXPECT_THAT(mesh.out, HasSubstr("data parallel replicas: all 2 hold identical copies of"));
  const std::string mesh_run = run_directory(mesh);
  ASSERT_FALSE(mesh_run.empty()) << mesh.out;
  EXPECT_LE(largest_difference(one_run + "/checkpoints/step-8", mesh_run + "/checkpoints/step-8"), kTolerance);
  expect_same_losses(logged_losses(one_run), logged_losses(mesh_run), 1e-5);
  expect_same_token_evaluation(one_run, mesh_run, 1e-3);  // an argmax may flip on a near-tie

  // The mesh's step-4 checkpoint (whole) continues in one process...
  const CommandResult resumed =
      run_stratum(gpt_args(resumed_dir, 8, 8, " --resume " + mesh_run + "/checkpoints/step-4"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_THAT(resumed.out + resumed.err, HasSubstr("was trained on 4 rank(s), continuing on 1"));
  EXPECT_LE(largest_difference(one_run + "/checkpoints/step-8", run_directory(resumed) + "/checkpoints/step-8"),
            kTolerance);
  // ...and the one-process checkpoint in a model split over two ranks (one replica).
  const CommandResult split = run_stratum(
      launch(2, gpt_args(split_dir, 8, 8, " --set distributed.tensor_parallel=2 --resume " + one_run + "/checkpoints/step-4")));
  ASSERT_EQ(split.exit_code, 0) << split.out << split.err;
  EXPECT_LE(largest_difference(one_run + "/checkpoints/step-8", run_directory(split) + "/checkpoints/step-8"), kTolerance);
}

TEST(TensorParallel, WithDropoutAndLoraThePartsOfAModelStayConsistent) {
  TempDir dir;
  // Dropout in attention (rank-local masks), on the residual stream (shared masks) and in
  // LoRA; the parts' unsplit parameters must still agree bit for bit at the end.
  const CommandResult r = run_stratum(launch(
      2, gpt_args(dir, 4, 6,
                  " --set distributed.tensor_parallel=2 --set model.dropout=0.1 --set adapters.lora.enabled=true"
                  " --set adapters.lora.dropout=0.1 --set adapters.lora.targets=[attn.qkv,attn.proj,mlp.fc1,mlp.fc2]")));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("tensor parallel parts: all 2 hold identical copies of"));
  const std::string run = run_directory(r);
  // The adapter file holds whole LoRA matrices: qkv's B is (3 × width 32, rank 8), fc2's A (8, 64).
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, t] : read_safetensors(run + "/lora.safetensors").tensors) shapes[name] = t.sizes().vec();
  EXPECT_EQ(shapes["blocks.0.attn.qkv.lora.B"], (std::vector<int64_t>{96, 8}));
  EXPECT_EQ(shapes["blocks.1.mlp.fc2.lora.A"], (std::vector<int64_t>{8, 64}));
}

TEST(TensorParallel, AWorldTheDegreeDoesNotDivideIsRefused) {
  TempDir dir;
  const CommandResult r = run_stratum(launch(3, gpt_args(dir, 4, 2, " --set distributed.tensor_parallel=2")));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  // Refused before the ranks meet, so every rank says the same.
  EXPECT_THAT(r.err, HasSubstr("distributed.tensor_parallel: 2 does not divide the job's 3 ranks (WORLD_SIZE)"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("process group")));
}

}  // namespace
}  // namespace stratum::testing
