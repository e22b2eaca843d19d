#pragma once
// Forward declarations of the LibTorch types that headers only pass by reference, so those
// headers stay free of LibTorch's own (heavy) headers.

namespace at {
class Tensor;
}
namespace torch {
namespace nn {
class Module;
}
namespace optim {
class Optimizer;
}
}  // namespace torch
