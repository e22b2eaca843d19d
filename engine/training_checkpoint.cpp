#include "engine/training_checkpoint.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "engine/checkpoint_store.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random_state.h"
#include "core/safetensors.h"
#include "core/sha256.h"
#include "core/text.h"
#include "core/torch_compat.h"

namespace fs = std::filesystem;

namespace stratum {
namespace {

template <class F>
void load_file(const std::string& path, const std::string& what, F load) {
  try {
    load();
  } catch (const UserError&) {
    throw;
  } catch (const c10::Error& e) {
    throw UserError(path + ": cannot restore the " + what + ": " + printable(first_line(e.what_without_backtrace()), 300));
  } catch (const std::exception& e) {
    throw UserError(path + ": cannot restore the " + what + ": " + printable(first_line(e.what()), 300));
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

// Restores `module` from `archive` as Module::load does (its own parameters and buffers, then
// each serializable child from a nested archive), but a tensor whose shape or dtype differs
// from the configured model's is refused instead of silently replacing it.
void restore_module(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& prefix,
                    const std::string& path) {
  const auto restore = [&](const std::string& name, torch::Tensor& target, bool buffer) {
    const std::string full = prefix + name;
    torch::Tensor saved;
    if (!archive.try_read(name, saved, buffer)) {
      throw UserError(path + ": no tensor " + printable(full) + " (the config builds a model the checkpoint does not hold)");
    }
    if (saved.sizes() != target.sizes() || saved.scalar_type() != target.scalar_type()) {
      throw UserError(path + ": tensor " + printable(full) + " is " + shape_text(saved.sizes()) + " " +
                      c10::toString(saved.scalar_type()) + " in the checkpoint but " + shape_text(target.sizes()) + " " +
                      c10::toString(target.scalar_type()) + " in the configured model; resume or evaluate with the "
                      "config the checkpoint was trained with (its config.resolved.yaml)");
    }
    torch::NoGradGuard no_grad;
    target.copy_(saved);
  };
  for (auto& p : module.named_parameters(/*recurse=*/false)) restore(p.key(), p.value(), false);
  for (auto& b : module.named_buffers(/*recurse=*/false)) restore(b.key(), b.value(), true);
  for (const auto& child : module.named_children()) {
    if (!child.value()->is_serializable()) continue;
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) {
      throw UserError(path + ": no module " + printable(prefix + child.key()) +
                      " (the config builds a model the checkpoint does not hold)");
    }
    restore_module(*child.value(), child_archive, prefix + child.key() + ".", path);
  }
}

void load_model(const std::string& dir, torch::nn::Module& model) {
  const std::string model_path = dir + "/model.pt";
  load_file(model_path, "model (does the config build the same architecture?)", [&] {
    torch::serialize::InputArchive archive;
    archive.load_from(model_path);
    restore_module(model, archive, "", model_path);
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
                                     const CheckpointExtras& extras) {
  CheckpointWriter writer(root, state.step);
  if (extras.rank_generators && extras.rank_generators->defined()) {
    torch::save(*extras.rank_generators, writer.staged_path("rng_ranks.pt"));
  }
  for (const auto& [name, tensors] : extras.tensor_lists) torch::save(tensors, writer.staged_path(name + ".pt"));
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
  const std::vector<std::string>* replica_pipeline_states = extras.replica_pipeline_states;
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
  if (state.early_stopping_best_step > 0) {
    json["early_stopping"] = {{"best", state.early_stopping_best},
                              {"best_step", state.early_stopping_best_step},
                              {"waited", state.early_stopping_waited}};
  }
  const data::DataSpec& spec = state.data_spec;
  json["data_spec"] = {{"kind", static_cast<int>(spec.kind)},   {"input_shape", spec.input_shape},
                       {"num_classes", spec.num_classes},        {"vocab_size", spec.vocab_size},
                       {"pad_token", spec.pad_token},            {"class_names", spec.class_names},
                       {"input_mean", spec.input_mean},          {"input_std", spec.input_std}};
  writer.add_file("state.json", json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
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
  if (table.dim() != 2 || table.scalar_type() != torch::kUInt8) {
    throw UserError(path + ": not a table of random generator states (" + shape_text(table.sizes()) + ")");
  }
  return table;
}

std::string resolve_checkpoint(const std::string& path) {
  std::error_code ec;
  (void)fs::status(path, ec);  // a symlink loop or an over-long name, not merely a missing path
  if (ec && ec != std::errc::no_such_file_or_directory) throw UserError(path + ": cannot use as a checkpoint: " + ec.message());
  if (fs::is_regular_file(fs::path(path) / "metadata.json", ec) || fs::is_regular_file(fs::path(path) / "COMMITTED", ec)) {
    return path;
  }
  // A folder of checkpoints (a run's checkpoints/, or checkpoints/best), else a run directory.
  std::string latest = latest_checkpoint(path);
  if (latest.empty()) latest = latest_checkpoint((fs::path(path) / "checkpoints").string());
  if (latest.empty()) {
    throw UserError(path + ": no complete checkpoint here or in " + (fs::path(path) / "checkpoints").string());
  }
  return latest;
}

namespace {

// state.json of a checkpoint that has been verified already. Every field is type- and
// range-checked: a hand-edited or hostile file is a UserError naming the field.
TrainingState parse_state(const std::string& dir) {
  const std::string state_path = dir + "/state.json";
  std::ifstream in(state_path);
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("step") || !json.contains("batches")) {
    throw UserError(state_path + ": corrupt training state");
  }
  const auto bad = [&](const std::string& field, const std::string& why) {
    return UserError(state_path + ": corrupt training state: " + field + " " + why);
  };
  const auto count = [&](const char* field, int64_t fallback, int64_t min) {
    if (!json.contains(field)) return fallback;
    const auto& v = json[field];
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > (uint64_t{1} << 62))) {
      throw bad(field, "is not an integer");
    }
    const int64_t x = v.get<int64_t>();
    if (x < min) throw bad(field, "is " + std::to_string(x) + " (at least " + std::to_string(min) + ")");
    return x;
  };
  const auto text = [&](const char* field) {
    if (!json.contains(field)) return std::string();
    if (!json[field].is_string()) throw bad(field, "is not a string");
    return json[field].get<std::string>();
  };
  TrainingState state;
  state.step = count("step", 0, 0);
  state.batches = count("batches", 0, 0);
  state.data_fingerprint = text("data_fingerprint");
  state.config_sha256 = text("config_sha256");
  state.pipeline_sha256 = text("pipeline_sha256");
  if (json.contains("loss_scale")) {
    if (!json["loss_scale"].is_number() || !(json["loss_scale"].get<double>() > 0) ||
        !std::isfinite(json["loss_scale"].get<double>())) {
      throw bad("loss_scale", "is not a positive number");
    }
    state.loss_scale = json["loss_scale"].get<double>();
  }
  state.loss_scale_clean_steps = count("loss_scale_clean_steps", 0, 0);
  state.skipped_steps = count("skipped_steps", 0, 0);
  state.world_size = count("world_size", 1, 1);
  state.global_batch = count("global_batch", 0, 0);
  try {
    if (json.contains("early_stopping")) {
      const auto& e = json["early_stopping"];
      if (!e.is_object() || !e.at("best").is_number() || !e.at("best_step").is_number_integer() ||
          !e.at("waited").is_number_integer() || e.at("best_step").get<int64_t>() < 1 || e.at("waited").get<int64_t>() < 0) {
        throw bad("early_stopping", "is not {best, best_step, waited}");
      }
      state.early_stopping_best = e.at("best").get<double>();
      state.early_stopping_best_step = e.at("best_step").get<int64_t>();
      state.early_stopping_waited = e.at("waited").get<int64_t>();
    }
    state.replica_pipeline_sha256 = json.value("replica_pipeline_sha256", std::vector<std::string>{});
    if (json.contains("data_spec") && json["data_spec"].is_object()) {
      const auto& j = json["data_spec"];
      const int kind = j.at("kind").get<int>();
      if (kind < 0 || kind > static_cast<int>(data::InputKind::tokens)) throw bad("data_spec.kind", "is unknown");
      state.data_spec.kind = static_cast<data::InputKind>(kind);
      state.data_spec.input_shape = j.at("input_shape").get<std::vector<int64_t>>();
      state.data_spec.num_classes = j.at("num_classes").get<int64_t>();
      state.data_spec.vocab_size = j.at("vocab_size").get<int64_t>();
      state.data_spec.pad_token = j.at("pad_token").get<int64_t>();
      state.data_spec.class_names = j.at("class_names").get<std::vector<std::string>>();
      state.data_spec.input_mean = j.value("input_mean", std::vector<float>{});
      state.data_spec.input_std = j.value("input_std", std::vector<float>{});
      if (state.data_spec.input_mean.size() != state.data_spec.input_std.size()) {
        throw bad("data_spec", "has input_mean and input_std of different lengths");
      }
      for (int64_t d : state.data_spec.input_shape) {
        if (d < 1 || d > (int64_t{1} << 24)) throw bad("data_spec.input_shape", "holds " + std::to_string(d));
      }
      if (state.data_spec.num_classes < 0 || state.data_spec.num_classes > 65536 || state.data_spec.vocab_size < 0 ||
          state.data_spec.vocab_size > (int64_t{1} << 24)) {
        throw bad("data_spec", "has an implausible num_classes or vocab_size");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw UserError(state_path + ": corrupt training state (" + first_line(e.what()) + ")");
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

std::vector<at::Tensor> load_checkpoint_tensors(const std::string& dir, const std::string& name) {
  const CheckpointInfo info = verify_checkpoint(dir);
  std::vector<torch::Tensor> tensors;
  if (!info.sha256.count(name + ".pt")) return tensors;
  const std::string path = dir + "/" + name + ".pt";
  load_file(path, name, [&] { torch::load(tensors, path); });
  return tensors;
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
