#include "distributed/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>

#include "core/error.h"
#include "core/text.h"
#include "core/torch_compat.h"
#include "distributed/data_parallel.h"

#ifdef STRATUM_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef STRATUM_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace stratum::distributed {
namespace {

using Milliseconds = std::chrono::milliseconds;

Milliseconds to_ms(double seconds) { return Milliseconds(static_cast<int64_t>(seconds * 1000.0)); }

// The collectives Stratum uses, bound to a concrete c10d process group. Capturing the group in
// closures spares naming its base class, which differs between LibTorch 1.13
// (c10d::ProcessGroup) and 2.x (c10d::Backend).
struct GroupOps {
  std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&, c10d::ReduceOp)> all_reduce;
  std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&, int)> broadcast;
  std::function<c10::intrusive_ptr<c10d::Work>()> barrier;
};

template <class Group>
GroupOps ops_of(const c10::intrusive_ptr<Group>& group) {
  GroupOps ops;
  ops.all_reduce = [group](std::vector<at::Tensor>& tensors, c10d::ReduceOp op) {
    c10d::AllreduceOptions options;
    options.reduceOp = op;
    return group->allreduce(tensors, options);
  };
  ops.broadcast = [group](std::vector<at::Tensor>& tensors, int root) {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    return group->broadcast(tensors, options);
  };
  ops.barrier = [group]() { return group->barrier(c10d::BarrierOptions()); };
  return ops;
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

// `rank` of `size`: the position in the group, which for a subgroup is not the world rank.
GroupOps make_gloo(const c10::intrusive_ptr<c10d::Store>& store, const WorldInfo& world, int rank, int size,
                   const ProcessGroupOptions& options) {
#ifdef STRATUM_HAVE_GLOO
  auto gloo = c10d::ProcessGroupGloo::Options::create(to_ms(options.collective_timeout_s));
  // GLOO_SOCKET_IFNAME chooses the interface, as it does for PyTorch; a job on one host talks
  // over loopback; otherwise Gloo binds to the address this host's name resolves to.
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface) {
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  } else if (is_loopback(world.master_addr)) {
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  gloo->threads = 2;
  return ops_of(c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, gloo));
#else
  (void)store, (void)world, (void)rank, (void)size, (void)options;
  STRATUM_CHECK(false, "resolve_backend lets gloo through only where it is compiled in");
#endif
}

GroupOps make_nccl(const c10::intrusive_ptr<c10d::Store>& store, const WorldInfo& world, int rank, int size,
                   const ProcessGroupOptions& options) {
#ifdef STRATUM_WITH_NCCL
  if (world.local_rank >= compat::cuda_device_count()) {
    throw UserError("LOCAL_RANK=" + std::to_string(world.local_rank) + ": rank " + std::to_string(world.rank) +
                    " would use CUDA device " + std::to_string(world.local_rank) + ", but this node shows " +
                    std::to_string(compat::cuda_device_count()) + " (CUDA_VISIBLE_DEVICES); start at most that many "
                    "workers per node (--nproc-per-node)");
  }
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(world.local_rank));
  auto nccl = c10d::ProcessGroupNCCL::Options::create();
  nccl->timeout = to_ms(options.collective_timeout_s);
  return ops_of(c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, nccl));
#else
  (void)store, (void)world, (void)rank, (void)size, (void)options;
  STRATUM_CHECK(false, "resolve_backend lets nccl through only where it is compiled in");
#endif
}

// A started c10d collective; failures surface on wait() with the same message as blocking
// calls, and `done` runs after it (copying a staged result back to the host).
class PendingWork : public PendingCollective {
 public:
  PendingWork(c10::intrusive_ptr<c10d::Work> work, std::function<void(const std::exception&)> fail,
              std::function<void()> done)
      : work_(std::move(work)), fail_(std::move(fail)), done_(std::move(done)) {}
  void wait() override {
    try {
      work_->wait();
    } catch (const std::exception& e) {
      fail_(e);
    }
    if (done_) done_();
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  std::function<void(const std::exception&)> fail_;
  std::function<void()> done_;
};

}  // namespace

std::string resolve_backend(const ProcessGroupOptions& options) {
#ifdef STRATUM_HAVE_GLOO
  const bool gloo = true;
#else
  const bool gloo = false;
#endif
#ifdef STRATUM_WITH_NCCL
  const bool nccl = compat::nccl_available();
#else
  const bool nccl = false;
#endif
  if (options.backend == Backend::nccl && !options.cuda) {
    throw UserError("distributed.backend: nccl reduces CUDA tensors, but this job trains on the CPU "
                    "(trainer.device); use gloo or auto");
  }
  const std::string chosen = options.backend != Backend::automatic ? choice_name(options.backend) : options.cuda && nccl ? "nccl" : "gloo";
  if (chosen == "gloo" && !gloo) {
    throw UserError("distributed.backend: gloo is not compiled into this build (its LibTorch, the PyTorch wheel, "
                    "ships no Gloo headers); use the Debian-LibTorch build (build/) for CPU jobs, or nccl on GPUs");
  }
  if (chosen == "nccl" && !nccl) {
    throw UserError("distributed.backend: nccl needs the CUDA build of Stratum (build-cuda/) on GPUs");
  }
  return chosen;
}

struct ProcessGroup::Impl {
  WorldInfo world;
  int rank = 0, size = 1;  ///< this process's position in the group and the group's size
  ProcessGroupOptions options;
  std::string backend;
  c10::intrusive_ptr<c10d::Store> store;
  GroupOps ops;

  [[noreturn]] void fail(const std::string& what, const std::exception& e) const {
    throw std::runtime_error("distributed: " + what + " failed on rank " + std::to_string(world.rank) + group_name() + " (" +
                             first_line(e.what()) + "); another rank failed, stopped or hangs, or it took longer "
                             "than distributed.collective_timeout_s=" + format_number(options.collective_timeout_s));
  }

  std::string name;  ///< "" for the whole job, else the subgroup's name

  std::string group_name() const { return name.empty() ? "" : " in group " + name; }

  GroupOps make(const c10::intrusive_ptr<c10d::Store>& at) const {
    return backend == "nccl" ? make_nccl(at, world, rank, size, options) : make_gloo(at, world, rank, size, options);
  }

  // NCCL reduces CUDA tensors only: host tensors (counters, flags, checksums, generator
  // states) travel through this rank's device and back.
  bool stages(const at::Tensor& tensor) const { return backend == "nccl" && !tensor.is_cuda(); }
  at::Tensor staged(const at::Tensor& tensor) const {
    return stages(tensor) ? tensor.to(torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank)))
                          : tensor;
  }
  // Runs a blocking collective `start` on `tensor`, staged if need be.
  void run_on(const std::string& what, at::Tensor& tensor,
              const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&)>& start) const {
    std::vector<at::Tensor> tensors{staged(tensor)};
    run(what, start(tensors));
    if (stages(tensor)) tensor.copy_(tensors[0]);
  }

  void run(const std::string& what, c10::intrusive_ptr<c10d::Work> work) const {
    try {
      work->wait();
    } catch (const std::exception& e) {
      fail(what, e);
    }
  }
};

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const WorldInfo& world, const ProcessGroupOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->world = world;
  impl->rank = world.rank;
  impl->size = world.world_size;
  impl->options = options;
  impl->backend = resolve_backend(options);
  const std::string where = "MASTER_ADDR=" + world.master_addr + " MASTER_PORT=" + std::to_string(world.master_port);
  const std::string timeout = "distributed.init_timeout_s=" + format_number(options.init_timeout_s);

  // Under torchrun the agent hosts the store and every worker is a client of it
  // (TORCHELASTIC_USE_AGENT_STORE), with keys under one prefix per restart, as PyTorch does.
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  const bool agent_store = agent && std::string(agent) == "True";
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(world.master_port);
  store_options.isServer = world.is_primary() && !agent_store;
  store_options.numWorkers = static_cast<size_t>(world.world_size);
  store_options.waitWorkers = false;
  store_options.timeout = to_ms(options.init_timeout_s);
  c10::intrusive_ptr<c10d::Store> tcp;
  try {
    tcp = c10::make_intrusive<c10d::TCPStore>(world.master_addr, store_options);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    if (store_options.isServer && (message.find("EADDRINUSE") != std::string::npos ||
                                   message.find("ddress already in use") != std::string::npos)) {
      throw UserError(where + ": port " + std::to_string(world.master_port) +
                      " is already in use on this host (another job, or a previous one still holding it); "
                      "choose another with --master-port");
    }
    if (store_options.isServer) {
      throw UserError(where + ": rank 0 cannot host the rendezvous store (" + first_line(message) + ")");
    }
    throw UserError(where + ": rank " + std::to_string(world.rank) + " cannot reach the rendezvous store within " +
                    timeout + " (" + first_line(message) + ")");
  }
  const char* restart = std::getenv("TORCHELASTIC_RESTART_COUNT");
  const std::string prefix = agent_store ? std::string("/worker/attempt_") + (restart ? restart : "0") + "/stratum"
                                         : std::string("stratum");
  impl->store = c10::make_intrusive<c10d::PrefixStore>(prefix, tcp);
  // Every rank checks in and waits for all the others within init_timeout_s: the backends'
  // own rendezvous would wait out the (longer) collective timeout for a peer that never comes.
  try {
    impl->store->set("joined/" + std::to_string(world.rank), std::vector<uint8_t>{1});
    std::vector<std::string> keys;
    for (int r = 0; r < world.world_size; ++r) keys.push_back("joined/" + std::to_string(r));
    impl->store->wait(keys, to_ms(options.init_timeout_s));
  } catch (const std::exception& e) {
    std::vector<std::string> missing;
    for (int r = 0; r < world.world_size && missing.size() < 8; ++r) {
      try {
        if (!impl->store->check({"joined/" + std::to_string(r)})) missing.push_back(std::to_string(r));
      } catch (const std::exception&) {
        break;
      }
    }
    throw UserError(where + ": not all " + std::to_string(world.world_size) + " ranks joined within " + timeout +
                    (missing.empty() ? "" : " (missing: rank " + join(missing, ", ") + ")") + " (" + first_line(e.what()) + ")");
  }
  try {
    impl->ops = impl->make(impl->store);
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw UserError(where + ": not all " + std::to_string(world.world_size) + " ranks joined the " + impl->backend +
                    " process group within " + timeout + " (" + first_line(e.what()) + ")");
  }
  // Later store reads (the run directory) may wait as long as a collective.
  impl->store->setTimeout(to_ms(options.collective_timeout_s));
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

const std::string& ProcessGroup::backend() const { return impl_->backend; }
int ProcessGroup::rank() const { return impl_->rank; }
int ProcessGroup::world_size() const { return impl_->size; }

std::unique_ptr<ProcessGroup> ProcessGroup::subgroup(const std::string& name, const std::vector<int>& members) {
  const auto self = std::find(members.begin(), members.end(), impl_->world.rank);
  STRATUM_CHECK(impl_->name.empty() && self != members.end(), "subgroups are formed from the whole job by their members");
  auto impl = std::make_unique<Impl>(*impl_);
  impl->name = name;
  impl->rank = static_cast<int>(self - members.begin());
  impl->size = static_cast<int>(members.size());
  // Its own key space in the job's store: every group's rendezvous and keys stay apart.
  impl->store = c10::make_intrusive<c10d::PrefixStore>("group/" + name, impl_->store);
  try {
    impl->ops = impl->make(impl->store);
  } catch (const std::exception& e) {
    impl_->fail("forming process group " + name, e);
  }
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

void ProcessGroup::all_reduce_sum(at::Tensor& tensor) {
  impl_->run_on("all-reduce", tensor, [&](std::vector<at::Tensor>& t) { return impl_->ops.all_reduce(t, c10d::ReduceOp::SUM); });
}

void ProcessGroup::all_reduce_max(at::Tensor& tensor) {
  impl_->run_on("all-reduce (max)", tensor,
                [&](std::vector<at::Tensor>& t) { return impl_->ops.all_reduce(t, c10d::ReduceOp::MAX); });
}

std::unique_ptr<PendingCollective> ProcessGroup::all_reduce_sum_async(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{impl_->staged(tensor)};
  const Impl* impl = impl_.get();
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = impl_->ops.all_reduce(tensors, c10d::ReduceOp::SUM);
  } catch (const std::exception& e) {
    impl->fail("all-reduce", e);
  }
  std::function<void()> done;
  if (impl_->stages(tensor)) done = [host = tensor, device = tensors[0]]() mutable { host.copy_(device); };
  return std::make_unique<PendingWork>(std::move(work),
                                       [impl](const std::exception& e) { impl->fail("gradient all-reduce", e); },
                                       std::move(done));
}

void ProcessGroup::broadcast(at::Tensor& tensor, int root) {
  impl_->run_on("broadcast", tensor, [&](std::vector<at::Tensor>& t) { return impl_->ops.broadcast(t, root); });
}

void ProcessGroup::barrier() { impl_->run("barrier", impl_->ops.barrier()); }

std::string ProcessGroup::share_from_primary(const std::string& key, const std::string& value) {
  try {
    if (impl_->rank == 0) {
      impl_->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
      return value;
    }
    const std::vector<uint8_t> bytes = impl_->store->get(key);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    impl_->fail("reading \"" + key + "\" from the rendezvous store", e);
  }
}

std::unique_ptr<GradientSynchronizer> ProcessGroup::data_parallel(torch::nn::Module& model, int64_t bucket_bytes) {
  broadcast_module(*this, model);
  return std::make_unique<BucketedGradientSync>(*this, model, bucket_bytes);
}

}  // namespace stratum::distributed
