#include "core/training_checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/checkpoint_store.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random_state.h"
#include "core/sha256.h"
#include "core/torch_compat.h"

namespace fs = std::filesystem;

namespace stratum {
namespace {

template <class F>
void load_file(const std::string& path, const std::string& what, F load) {
  try {
    load();
  } catch (const c10::Error& e) {
    throw UserError(path + ": cannot restore the " + what + ": " + e.what_without_backtrace());
  }
}

// One state per visible CUDA device (none on a CPU-only machine or LibTorch).
std::vector<torch::Tensor> cuda_rng_states() {
  std::vector<torch::Tensor> states;
  for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i) {
    states.push_back(generator_state(default_generator(c10::Device(c10::kCUDA, static_cast<int8_t>(i)))));
  }
  return states;
}

void set_cuda_rng_states(const std::vector<torch::Tensor>& states, const std::string& path) {
  const auto devices = static_cast<size_t>(torch::cuda::device_count());
  if (states.size() != devices) {
    // Dropout masks after resume then differ from the uninterrupted run; training is still sound.
    log::warn(path + ": saved on " + std::to_string(states.size()) + " CUDA device(s), restoring on " +
              std::to_string(devices) + "; CUDA random streams are not restored");
    return;
  }
  for (size_t i = 0; i < devices; ++i) {
    set_generator_state(default_generator(c10::Device(c10::kCUDA, static_cast<int8_t>(i))), states[i]);
  }
}

void load_model(const std::string& dir, torch::nn::Module& model) {
  const std::string model_path = dir + "/model.pt";
  load_file(model_path, "model (does the config build the same architecture?)", [&] {
    torch::serialize::InputArchive archive;
    archive.load_from(model_path);
    model.load(archive);
  });
}

}  // namespace

int64_t load_model_weights(const std::string& dir, torch::nn::Module& model) {
  const CheckpointInfo info = verify_checkpoint(dir);
  if (!info.sha256.count("model.pt")) throw UserError(dir + "/model.pt: not in the checkpoint");
  load_model(dir, model);
  return info.step;
}

std::string save_training_checkpoint(const std::string& root, const TrainingState& state, const torch::nn::Module& model,
                                     const torch::optim::Optimizer& optimizer, const std::string& resolved_config,
                                     const std::string& pipeline_state, int64_t keep_last,
                                     const at::Tensor* rank_generators,
                                     const std::vector<std::string>* replica_pipeline_states) {
  CheckpointWriter writer(root, state.step);
  if (rank_generators && rank_generators->defined()) torch::save(*rank_generators, writer.staged_path("rng_ranks.pt"));
  {
    torch::serialize::OutputArchive archive;
    model.save(archive);
    archive.save_to(writer.staged_path("model.pt"));
  }
  torch::save(optimizer, writer.staged_path("optimizer.pt"));
  torch::save(generator_state(default_generator(c10::kCPU)), writer.staged_path("rng_cpu.pt"));
  if (const std::vector<torch::Tensor> cuda = cuda_rng_states(); !cuda.empty()) {
    torch::save(cuda, writer.staged_path("rng_cuda.pt"));
  }
  if (!pipeline_state.empty()) writer.add_file("data_state.bin", pipeline_state);
  std::vector<std::string> replica_hashes;
  for (size_t r = 0; replica_pipeline_states && r < replica_pipeline_states->size(); ++r) {
    const std::string& bytes = (*replica_pipeline_states)[r];
    if (r > 0) writer.add_file("data_state.replica-" + std::to_string(r) + ".bin", bytes);
    replica_hashes.push_back(sha256_hex(bytes));
  }
  nlohmann::ordered_json json;
  json["step"] = state.step;
  json["batches"] = state.batches;
  json["data_fingerprint"] = state.data_fingerprint;
  json["config_sha256"] = state.config_sha256;
  json["pipeline_sha256"] = pipeline_state.empty() ? "" : sha256_hex(pipeline_state);
  json["loss_scale"] = state.loss_scale;
  json["loss_scale_clean_steps"] = state.loss_scale_clean_steps;
  json["skipped_steps"] = state.skipped_steps;
  json["world_size"] = state.world_size;
  json["global_batch"] = state.global_batch;
  if (!replica_hashes.empty()) json["replica_pipeline_sha256"] = replica_hashes;
  const data::DataSpec& spec = state.data_spec;
  json["data_spec"] = {{"kind", static_cast<int>(spec.kind)},   {"input_shape", spec.input_shape},
                       {"num_classes", spec.num_classes},        {"vocab_size", spec.vocab_size},
                       {"pad_token", spec.pad_token},            {"class_names", spec.class_names},
                       {"input_mean", spec.input_mean},          {"input_std", spec.input_std}};
  writer.add_file("state.json", json.dump(2) + "\n");
  writer.add_file("config.resolved.yaml", resolved_config);
  const std::string dir = writer.commit();
  rotate_checkpoints(root, keep_last);
  return dir;
}

at::Tensor generator_state_bytes() {
  std::vector<torch::Tensor> parts{generator_state(default_generator(c10::kCPU)).reshape({-1})};
  if (compat::cuda_available()) parts.push_back(generator_state(default_generator(c10::kCUDA)).reshape({-1}));
  return torch::cat(parts);
}

void set_generator_state_bytes(const at::Tensor& bytes, const std::string& source) {
  at::Generator cpu = default_generator(c10::kCPU);
  const int64_t cpu_bytes = generator_state(cpu).numel();
  const bool cuda = compat::cuda_available();
  if (bytes.numel() < cpu_bytes || (!cuda && bytes.numel() != cpu_bytes)) {
    throw UserError(source + ": the saved random generator state does not fit this process (" +
                    std::to_string(bytes.numel()) + " bytes)");
  }
  set_generator_state(cpu, bytes.narrow(0, 0, cpu_bytes).clone());
  if (cuda && bytes.numel() > cpu_bytes) {
    set_generator_state(default_generator(c10::kCUDA), bytes.narrow(0, cpu_bytes, bytes.numel() - cpu_bytes).clone());
  }
}

at::Tensor load_rank_generators(const std::string& dir) {
  const CheckpointInfo info = verify_checkpoint(dir);
  if (!info.sha256.count("rng_ranks.pt")) return {};
  const std::string path = dir + "/rng_ranks.pt";
  torch::Tensor table;
  load_file(path, "per-rank random generators", [&] { torch::load(table, path); });
  return table;
}

std::string resolve_checkpoint(const std::string& path) {
  if (fs::is_regular_file(fs::path(path) / "metadata.json") || fs::is_regular_file(fs::path(path) / "COMMITTED")) {
    return path;
  }
  const std::string latest = latest_checkpoint((fs::path(path) / "checkpoints").string());
  if (latest.empty()) {
    throw UserError(path + ": no complete checkpoint here or in " + (fs::path(path) / "checkpoints").string());
  }
  return latest;
}

namespace {

// state.json of a checkpoint that has been verified already.
TrainingState parse_state(const std::string& dir) {
  const std::string state_path = dir + "/state.json";
  std::ifstream in(state_path);
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("step") || !json.contains("batches")) {
    throw UserError(state_path + ": corrupt training state");
  }
  TrainingState state;
  state.step = json["step"].get<int64_t>();
  state.batches = json["batches"].get<int64_t>();
  state.data_fingerprint = json.value("data_fingerprint", "");
  state.config_sha256 = json.value("config_sha256", "");
  state.pipeline_sha256 = json.value("pipeline_sha256", "");
  state.loss_scale = json.value("loss_scale", 1.0);
  state.loss_scale_clean_steps = json.value("loss_scale_clean_steps", int64_t{0});
  state.skipped_steps = json.value("skipped_steps", int64_t{0});
  state.world_size = json.value("world_size", int64_t{1});
  state.global_batch = json.value("global_batch", int64_t{0});
  state.replica_pipeline_sha256 = json.value("replica_pipeline_sha256", std::vector<std::string>{});
  if (json.contains("data_spec") && json["data_spec"].is_object()) {
    try {
      const auto& j = json["data_spec"];
      state.data_spec.kind = static_cast<data::InputKind>(j.at("kind").get<int>());
      state.data_spec.input_shape = j.at("input_shape").get<std::vector<int64_t>>();
      state.data_spec.num_classes = j.at("num_classes").get<int64_t>();
      state.data_spec.vocab_size = j.at("vocab_size").get<int64_t>();
      state.data_spec.pad_token = j.at("pad_token").get<int64_t>();
      state.data_spec.class_names = j.at("class_names").get<std::vector<std::string>>();
      state.data_spec.input_mean = j.value("input_mean", std::vector<float>{});
      state.data_spec.input_std = j.value("input_std", std::vector<float>{});
      if (state.data_spec.input_mean.size() != state.data_spec.input_std.size()) {
        throw UserError(state_path + ": corrupt data_spec (input_mean and input_std differ in length)");
      }
    } catch (const nlohmann::json::exception& e) {
      throw UserError(state_path + ": corrupt data_spec (" + e.what() + ")");
    }
  }
  return state;
}

}  // namespace

TrainingState read_training_state(const std::string& dir) {
  const CheckpointInfo info = verify_checkpoint(dir);
  if (!info.sha256.count("state.json")) throw UserError(dir + "/state.json: not in the checkpoint");
  return parse_state(dir);
}

TrainingState load_training_checkpoint(const std::string& dir, torch::nn::Module* model,
                                       torch::optim::Optimizer& optimizer) {
  const CheckpointInfo info = verify_checkpoint(dir);
  for (const char* required : {"model.pt", "optimizer.pt", "rng_cpu.pt", "state.json"}) {
    if (!info.sha256.count(required)) throw UserError(dir + "/" + required + ": not in the checkpoint");
  }
  TrainingState state = parse_state(dir);
  if (model) load_model(dir, *model);
  const std::string optimizer_path = dir + "/optimizer.pt";
  load_file(optimizer_path, "optimizer state", [&] { torch::load(optimizer, optimizer_path); });
  const std::string rng_path = dir + "/rng_cpu.pt";
  load_file(rng_path, "random generator", [&] {
    torch::Tensor rng_state;
    torch::load(rng_state, rng_path);
    set_generator_state(default_generator(c10::kCPU), rng_state);
  });
  if (info.sha256.count("rng_cuda.pt")) {
    const std::string cuda_path = dir + "/rng_cuda.pt";
    load_file(cuda_path, "CUDA random generators", [&] {
      std::vector<torch::Tensor> states;
      torch::load(states, cuda_path);
      set_cuda_rng_states(states, cuda_path);
    });
  }
  return state;
}

std::string read_pipeline_state(const std::string& dir, int replica) {
  const CheckpointInfo info = verify_checkpoint(dir);
  const std::string name = replica == 0 ? "data_state.bin" : "data_state.replica-" + std::to_string(replica) + ".bin";
  if (!info.sha256.count(name)) return "";
  // Its sha256 was just verified against metadata.json, so its size is the one written.
  const std::string path = dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw UserError(path + ": cannot read");
  return bytes;
}

}  // namespace stratum
