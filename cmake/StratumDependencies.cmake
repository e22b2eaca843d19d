# Third-party dependencies, each wrapped in one target so include paths stay SYSTEM
# (their warnings are not ours) and the rest of the build names a single thing.

find_package(Torch REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# Image codecs: libjpeg-turbo (TurboJPEG API), libpng, libwebp.
pkg_check_modules(IMAGE_CODECS REQUIRED IMPORTED_TARGET libturbojpeg libpng libwebp)
# Tar shards (source: webdataset).
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
# Redaction patterns (data.redact): RE2, linear-time matching built for untrusted input.
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)

add_library(stratum_torch INTERFACE)
target_include_directories(stratum_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
target_link_libraries(stratum_torch INTERFACE ${TORCH_LIBRARIES} Threads::Threads)
separate_arguments(_stratum_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(stratum_torch INTERFACE ${_stratum_torch_flags})
# The PyTorch wheel's libtorch.so exports its own copy of libstdc++'s std::filesystem, which
# crashes when our code binds to it (remove_all jumps to null). Listing libstdc++ ahead of
# LibTorch in every binary's dependencies makes the dynamic linker find the real one first.
target_link_options(stratum_torch INTERFACE "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")

# Gloo headers decide whether the c10d Gloo process group can be compiled in. They must come
# with the LibTorch in use (Debian: libgloo-dev next to libtorch-dev in /usr/include): a
# PyTorch wheel's LibTorch must not pick up Debian's.
find_path(STRATUM_GLOO_INCLUDE_DIR gloo/rendezvous/store.h PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
if(STRATUM_GLOO_INCLUDE_DIR)
  set(STRATUM_HAVE_GLOO_HEADERS ON)
else()
  set(STRATUM_HAVE_GLOO_HEADERS OFF)
endif()
message(STATUS "Stratum: LibTorch ${Torch_VERSION} (${TORCH_LIBRARY}); Gloo headers: ${STRATUM_HAVE_GLOO_HEADERS}")

# Proof of which LibTorch headers a translation unit sees: preprocess one that includes
# LibTorch and check that every torch / ATen / c10 / caffe2 / gloo header it reads lies under
# this LibTorch's include directories (so a wheel's build never reads Debian's copies in
# /usr/include, which sits on every compiler's default path).
set(_stratum_probe ${CMAKE_BINARY_DIR}/stratum_header_probe.cpp)
file(WRITE ${_stratum_probe} "#include <torch/torch.h>\n#include <torch/version.h>\n")
set(_stratum_probe_includes)
foreach(dir ${TORCH_INCLUDE_DIRS})
  if(NOT dir STREQUAL "/usr/include")  # already the compiler's own; -isystem would reorder it
    list(APPEND _stratum_probe_includes -isystem ${dir})
  endif()
endforeach()
execute_process(
  COMMAND ${CMAKE_CXX_COMPILER} -std=c++17 ${_stratum_torch_flags} ${_stratum_probe_includes} -M ${_stratum_probe}
  OUTPUT_VARIABLE _stratum_probe_deps ERROR_VARIABLE _stratum_probe_error RESULT_VARIABLE _stratum_probe_result)
if(NOT _stratum_probe_result EQUAL 0)
  message(FATAL_ERROR "Stratum: cannot preprocess <torch/torch.h> with ${TORCH_INCLUDE_DIRS}: ${_stratum_probe_error}")
endif()
string(REPLACE "\\\n" " " _stratum_probe_deps "${_stratum_probe_deps}")
separate_arguments(_stratum_probe_deps UNIX_COMMAND "${_stratum_probe_deps}")
set(_stratum_torch_header_count 0)
foreach(header ${_stratum_probe_deps})
  if(NOT header MATCHES "/(torch|ATen|c10|caffe2|gloo)/")
    continue()
  endif()
  set(_stratum_inside OFF)
  foreach(dir ${TORCH_INCLUDE_DIRS})
    string(FIND "${header}" "${dir}/" _stratum_at)
    if(_stratum_at EQUAL 0)
      set(_stratum_inside ON)
    endif()
  endforeach()
  if(NOT _stratum_inside)
    message(FATAL_ERROR "Stratum: <torch/torch.h> reads ${header}, which is not part of the LibTorch in use "
                        "(${TORCH_INCLUDE_DIRS}); another LibTorch's headers are on the include path")
  endif()
  math(EXPR _stratum_torch_header_count "${_stratum_torch_header_count} + 1")
endforeach()
message(STATUS "Stratum: <torch/torch.h> reads ${_stratum_torch_header_count} LibTorch headers, all from ${TORCH_INCLUDE_DIRS}")

# One precompiled <torch/torch.h>, reused by every target that includes LibTorch: each
# translation unit then parses the ~200k lines of LibTorch headers once per build, not once per file.
option(STRATUM_USE_PCH "Precompile the LibTorch headers" ON)
function(stratum_use_torch_pch target)
  if(STRATUM_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM stratum_pch)
  endif()
endfunction()

# Parquet: Apache Arrow's C++ libraries and headers as the pyarrow wheel in .venv ships them
# (Debian has no Arrow package), the way the torch wheel ships LibTorch. Their headers need
# C++20, so only data/sources/parquet_rows.cpp includes them. The glob is checked again at every
# build: a tree configured before scripts/setup.sh installed pyarrow picks it up by itself.
set(STRATUM_ARROW_DIR "" CACHE PATH "pyarrow's package folder (libarrow.so.N, libparquet.so.N, include/); empty: .venv's")
if(STRATUM_ARROW_DIR)
  file(GLOB _stratum_parquet_libs "${STRATUM_ARROW_DIR}/libparquet.so.[0-9]*")
else()
  file(GLOB _stratum_parquet_libs CONFIGURE_DEPENDS
       "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/pyarrow/libparquet.so.[0-9]*")
endif()
set(STRATUM_HAVE_PARQUET OFF)
if(_stratum_parquet_libs)
  list(GET _stratum_parquet_libs 0 _stratum_parquet_lib)
  get_filename_component(_stratum_arrow_dir "${_stratum_parquet_lib}" DIRECTORY)
  string(REGEX REPLACE ".*/libparquet\\.so\\." "" _stratum_arrow_so "${_stratum_parquet_lib}")
  set(_stratum_arrow_lib "${_stratum_arrow_dir}/libarrow.so.${_stratum_arrow_so}")
  if(EXISTS "${_stratum_arrow_lib}" AND EXISTS "${_stratum_arrow_dir}/include/parquet/arrow/reader.h")
    set(STRATUM_HAVE_PARQUET ON)
    add_library(stratum_arrow INTERFACE)
    target_include_directories(stratum_arrow SYSTEM INTERFACE "${_stratum_arrow_dir}/include")
    target_link_libraries(stratum_arrow INTERFACE "${_stratum_parquet_lib}" "${_stratum_arrow_lib}")
    target_link_options(stratum_arrow INTERFACE "LINKER:-rpath,${_stratum_arrow_dir}")
  endif()
endif()
message(STATUS "Stratum: Parquet (Arrow C++ from pyarrow): ${STRATUM_HAVE_PARQUET}")
