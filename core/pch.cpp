// Compiles the precompiled LibTorch header that the other targets reuse (see core/CMakeLists.txt).
