// An example Stratum plugin: registers "plugin-tiny-cnn", a two-convolution image classifier.
// Build it like tests do (CMake target stratum_example_plugin) and train with
//   build/bin/stratum train --config configs/plugin-example.yaml --plugin build/lib/libstratum_example_plugin.so

#include <torch/torch.h>

#include <memory>

#include "core/error.h"
#include "engine/plugin.h"
#include "models/model.h"

namespace {

// conv(3x3) -> ReLU -> pool -> conv(3x3) -> ReLU -> global average -> linear.
class TinyCnn : public stratum::models::Model {
 public:
  TinyCnn(int64_t channels, int64_t width, int64_t classes) {
    conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, width, 3).padding(1)));
    conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 2 * width, 3).padding(1)));
    head_ = register_module("head", torch::nn::Linear(2 * width, classes));
  }

  torch::Tensor forward(const stratum::data::Batch& batch) override {
    torch::Tensor x = torch::max_pool2d(torch::relu(conv1_->forward(batch.inputs)), 2);
    x = torch::relu(conv2_->forward(x)).mean({2, 3});
    return head_->forward(x);
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear head_{nullptr};
};

}  // namespace

STRATUM_PLUGIN("example-tiny-cnn")

extern "C" void stratum_register(stratum::Registry& registry) {
  stratum::ModelEntry entry;
  entry.name = "plugin-tiny-cnn";
  entry.description = "example plugin: two convolutions, global pooling (examples/plugin)";
  entry.build = [](const stratum::models::ModelOptions& options, const stratum::data::DataSpec& spec) -> stratum::models::ModelPtr {
    if (spec.kind != stratum::data::InputKind::images || spec.input_shape.size() != 3) {
      throw stratum::UserError("model.name: plugin-tiny-cnn needs image inputs (C, H, W)");
    }
    const int64_t classes = options.num_classes > 0 ? options.num_classes : spec.num_classes;
    const int64_t width = options.hidden;  // model.hidden: the first convolution's channels
    return std::make_shared<TinyCnn>(spec.input_shape[0], width, classes);
  };
  entry.reference_options.hidden = 16;
  entry.reference_spec.input_shape = {1, 28, 28};
  entry.reference_spec.num_classes = 10;
  registry.models.add(std::move(entry));
}
