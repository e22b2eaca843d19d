#include "models/activation_checkpoint.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/random_state.h"

namespace stratum::models {
namespace {

// The backward node: recomputes f from the saved input under the forward pass's random state.
struct RecomputeBackward : public torch::autograd::Node {
  std::function<torch::Tensor(const torch::Tensor&)> f;
  torch::Tensor input;  // detached
  bool input_requires_grad = false;
  std::vector<torch::Tensor> parameters;
  torch::Device device{torch::kCPU};
  torch::Tensor rng_state;

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    at::Generator generator = default_generator(device);
    const torch::Tensor current = generator_state(generator);
    set_generator_state(generator, rng_state);
    torch::Tensor x = input.detach().requires_grad_(input_requires_grad);
    torch::Tensor y;
    {
      torch::AutoGradMode enable(true);
      y = f(x);
    }
    set_generator_state(generator, current);  // the rest of the backward pass sees the stream it would have
    std::vector<torch::Tensor> wrt;
    if (input_requires_grad) wrt.push_back(x);
    for (const auto& p : parameters) {
      if (p.requires_grad()) wrt.push_back(p);
    }
    std::vector<torch::Tensor> computed;
    if (!wrt.empty()) {
      computed = torch::autograd::grad({y}, wrt, {grads.at(0)}, /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true);
    }
    // One gradient per next edge, in the order the edges were collected: input, then parameters.
    torch::autograd::variable_list out;
    size_t next = 0;
    out.push_back(input_requires_grad ? computed[next++] : torch::Tensor());
    for (const auto& p : parameters) out.push_back(p.requires_grad() ? computed[next++] : torch::Tensor());
    return out;
  }

  void release_variables() override {
    input.reset();
    parameters.clear();
  }
};

}  // namespace

torch::Tensor checkpointed(const std::function<torch::Tensor(const torch::Tensor&)>& f, const torch::Tensor& x,
                           const std::vector<torch::Tensor>& parameters) {
  if (!torch::GradMode::is_enabled()) return f(x);
  auto node = std::shared_ptr<RecomputeBackward>(new RecomputeBackward(), torch::autograd::deleteNode);
  node->f = f;
  node->input = x.detach();
  node->input_requires_grad = x.requires_grad();
  node->parameters = parameters;
  node->device = x.device();
  node->rng_state = generator_state(default_generator(x.device()));
  torch::Tensor out;
  {
    torch::NoGradGuard no_grad;
    out = f(x);
  }
  STRATUM_CHECK(out.is_floating_point(), "checkpointed functions must return floating-point tensors");
  torch::autograd::variable_list inputs = {x};
  inputs.insert(inputs.end(), parameters.begin(), parameters.end());
  node->set_next_edges(torch::autograd::collect_next_edges(inputs));
  torch::autograd::set_history(out, node);
  return out;
}

}  // namespace stratum::models
