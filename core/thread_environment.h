#pragma once
// The threading environment LibTorch's CPU kernels run best in, set before they start.

namespace stratum {

/// With OpenBLAS (Debian's LibTorch), OpenBLAS's own worker threads and LibTorch's OpenMP
/// intra-op threads share the cores, and OpenMP's idle threads spin while OpenBLAS works:
/// measured on 2 cores, a vit-tiny training step ran 2.3x slower than with OpenMP's idle
/// threads sleeping (OMP_WAIT_POLICY=PASSIVE). OpenMP reads the variable when it loads, so when
/// it is unset and OpenBLAS is mapped this sets it and re-executes the program once with the
/// same arguments; an explicit OMP_WAIT_POLICY is left alone. Returns when nothing is to do
/// (or the re-execution failed).
void settle_thread_environment(char** argv);

}  // namespace stratum
