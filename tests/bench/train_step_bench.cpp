// Training-step throughput of a registered model on random data: the Stratum side of the
// device check's table (scripts/device_check.sh) and of scripts/bench.sh's comparisons with
// PyTorch (Python side: scripts/bench_train_step.py).
//   stratum_bench_train_step --model vit-s16|gpt-125m|... [--layers L] [--batch B] [--seq T]
//                            [--steps N] [--warmup W] [--precision bf16|fp32] [--threads N]
//                            [--device cuda|cpu] [--fused auto|on|off]
// Prints one JSON line: items/s, tokens/s, model FLOPs utilisation, peak memory, final loss.

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/classification.h"
#include "models/next_token_loss.h"
#include "engine/registry.h"
#include "core/thread_environment.h"
#include "core/torch_compat.h"
#include "engine/optimizer.h"
#include "models/builtin_models.h"

namespace {

// Dense bf16 peak of the cards the device check runs on (NVIDIA data sheets, without sparsity).
double bf16_peak_flops(const std::string& device_name) {
  if (device_name.find("H100") != std::string::npos && device_name.find("PCIe") != std::string::npos) return 756e12;
  if (device_name.find("H100") != std::string::npos || device_name.find("H200") != std::string::npos) return 989e12;
  return 0;
}

std::string flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  stratum::settle_thread_environment(argv);  // as the stratum binary does
  const std::string name = flag(argc, argv, "--model", "gpt-tiny");
  const int64_t batch = std::stoll(flag(argc, argv, "--batch", "8"));
  const int64_t steps = std::stoll(flag(argc, argv, "--steps", "20"));
  const int64_t warmup = std::stoll(flag(argc, argv, "--warmup", "5"));
  const bool bf16 = flag(argc, argv, "--precision", "bf16") == "bf16";
  const bool cuda = flag(argc, argv, "--device", "cuda") == "cuda" && stratum::compat::cuda_available();
  const int threads = std::stoi(flag(argc, argv, "--threads", "0"));
  if (threads > 0) torch::set_num_threads(threads);
  const torch::Device device = cuda ? torch::kCUDA : torch::kCPU;

  stratum::Registry registry;
  stratum::models::register_builtin_models(registry.models);
  const stratum::ModelEntry* entry = registry.models.find(name);
  if (!entry) {
    std::fprintf(stderr, "error: %s\n", registry.models.unknown_message(name).c_str());
    return 2;
  }
  stratum::data::DataSpec spec = entry->reference_spec;
  const bool tokens = spec.kind == stratum::data::InputKind::tokens;
  if (tokens) spec.input_shape = {std::stoll(flag(argc, argv, "--seq", std::to_string(spec.input_shape[0])))};
  stratum::models::ModelOptions options;
  options.name = name;
  options.layers = std::stoll(flag(argc, argv, "--layers", "0"));  // 0: the named size's
  options.dropout = 0.0;
  torch::manual_seed(0);
  auto model = entry->build(options, spec);
  model->to(device);
  model->train();
  const int64_t parameters = stratum::models::count_parameters(*model);
  // The trainer's optimizer: the fused AdamW kernel on CUDA where LibTorch has it (--fused).
  stratum::TrainerOptions trainer;
  trainer.lr = 1e-4;
  trainer.weight_decay = 0.1;
  const std::string fused = flag(argc, argv, "--fused", "auto");
  trainer.fused_adamw = fused == "on" ? stratum::FusedAdamWChoice::on
                        : fused == "off" ? stratum::FusedAdamWChoice::off
                                         : stratum::FusedAdamWChoice::automatic;
  if (cuda) stratum::compat::allow_tf32(true);
  auto optimizer_owner = stratum::make_optimizer(trainer, *model, cuda);
  torch::optim::Optimizer& optimizer = *optimizer_owner;

  // Random batches, drawn once on the device so the loop measures the model, not the data.
  const int64_t vocab = tokens ? model->named_parameters()["token_embedding.weight"].size(0) : 0;
  const torch::Tensor inputs = tokens ? torch::randint(0, vocab, {batch, spec.input_shape[0]},
                                                       torch::TensorOptions().dtype(torch::kInt64).device(device))
                                      : torch::randn({batch, spec.input_shape[0], spec.input_shape[1], spec.input_shape[2]},
                                                     torch::TensorOptions().device(device));
  const torch::Tensor targets = torch::randint(0, std::max<int64_t>(1, spec.num_classes), {batch},
                                               torch::TensorOptions().dtype(torch::kInt64).device(device));
  const stratum::data::Batch data{inputs, targets};

  torch::Tensor loss;
  double seconds = 0;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    if (step == warmup) {
      stratum::compat::cuda_synchronize();
      seconds = -std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    optimizer.zero_grad();
    torch::Tensor logits;
    if (bf16) {
      const stratum::compat::AutocastScope autocast(cuda, /*half=*/false);
      logits = model->forward(data);
    } else {
      logits = model->forward(data);
    }
    loss = tokens ? stratum::next_token_loss(logits, inputs, -1)
                  : stratum::classification_loss(logits.to(torch::kFloat32), targets, 0.0);
    loss.backward();
    optimizer.step();
  }
  const double final_loss = loss.item<double>();  // waits for the last step
  stratum::compat::cuda_synchronize();
  seconds += std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();

  // Tokens per example: the sequence, or the ViT's patches and class token (its pos_embed rows).
  const auto named = model->named_parameters();
  const int64_t per_example = tokens ? spec.input_shape[0] : named.contains("pos_embed") ? named["pos_embed"].size(1) : 1;
  const double items_per_second = static_cast<double>(batch * steps) / seconds;
  const double tokens_per_second = items_per_second * static_cast<double>(per_example);
  // 6·N per token for the matrix products plus 12·layers·width·context for attention scores
  // (PaLM's estimate); layers and width read off the built model's blocks.N.norm1 weights.
  int64_t layers = 0, width = 0;
  for (const auto& p : named) {
    if (p.key().rfind("blocks.", 0) == 0 && p.key().find(".norm1.weight") != std::string::npos) {
      ++layers;
      width = p.value().size(0);
    }
  }
  const double flops_per_token = 6.0 * static_cast<double>(parameters) +
                                 12.0 * static_cast<double>(layers * width * per_example);
  const std::string device_name = cuda ? stratum::compat::cuda_device_name() : "cpu";
  const double peak = bf16_peak_flops(device_name);
  nlohmann::ordered_json out;
  out["impl"] = "stratum";
  out["model"] = name;
  out["device"] = device_name;
  out["precision"] = bf16 ? "bf16" : "fp32";
  out["fused_adamw"] = stratum::uses_fused_adamw(trainer, cuda);
  out["threads"] = torch::get_num_threads();
  out["torch"] = stratum::compat::torch_version();
  out["batch"] = batch;
  out["tokens_per_example"] = per_example;
  out["steps"] = steps;
  out["parameters"] = parameters;
  out["items_per_second"] = items_per_second;
  out["tokens_per_second"] = tokens_per_second;
  out["mfu"] = peak > 0 ? flops_per_token * tokens_per_second / peak : 0.0;
  out["peak_memory_bytes"] = stratum::compat::cuda_peak_allocated_bytes();
  out["final_loss"] = final_loss;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
