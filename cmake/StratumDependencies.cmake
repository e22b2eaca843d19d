# Third-party dependencies, each wrapped in one target so include paths stay SYSTEM
# (their warnings are not ours) and the rest of the build names a single thing.

find_package(Torch REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)

add_library(stratum_torch INTERFACE)
target_include_directories(stratum_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
target_link_libraries(stratum_torch INTERFACE ${TORCH_LIBRARIES} Threads::Threads)
separate_arguments(_stratum_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(stratum_torch INTERFACE ${_stratum_torch_flags})

# Gloo headers (Debian: libgloo-dev) decide whether the c10d Gloo process group can be compiled in.
include(CheckIncludeFileCXX)
set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS})
check_include_file_cxx(gloo/rendezvous/store.h STRATUM_HAVE_GLOO_HEADERS)
unset(CMAKE_REQUIRED_INCLUDES)

# One precompiled <torch/torch.h>, reused by every target that includes LibTorch: each
# translation unit then parses the ~200k lines of LibTorch headers once per build, not once per file.
option(STRATUM_USE_PCH "Precompile the LibTorch headers" ON)
function(stratum_use_torch_pch target)
  if(STRATUM_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM stratum_pch)
  endif()
endfunction()
