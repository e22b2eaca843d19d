#include "core/safetensors.h"

#include <torch/torch.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/atomic_file.h"
#include "core/text.h"

namespace stratum {
namespace {

const std::vector<std::pair<std::string, torch::ScalarType>>& dtype_names() {
  static const std::vector<std::pair<std::string, torch::ScalarType>> names = {
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  return names;
}

std::string dtype_name(torch::ScalarType type) {
  for (const auto& [name, t] : dtype_names()) {
    if (t == type) return name;
  }
  throw std::invalid_argument(std::string("safetensors: unsupported dtype ") + c10::toString(type));
}

}  // namespace

void write_safetensors(const std::string& path, const SafetensorsFile& file) {
  nlohmann::ordered_json header;
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::vector<torch::Tensor> stored;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : file.tensors) {
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    stored.push_back(t);
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t length = json.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xff);
  out += json;
  out.reserve(out.size() + offset);
  for (const torch::Tensor& t : stored) {
    out.append(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()) * t.element_size());
  }
  write_file_atomically(path, out);
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open the weights file");
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char prefix[8];
  if (size < 8 || !in.read(reinterpret_cast<char*>(prefix), 8)) throw UserError(path + ": not a safetensors file (too short)");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | prefix[i];
  if (header_length > size - 8 || header_length > (100u << 20)) {
    throw UserError(path + ": not a safetensors file (header length " + std::to_string(header_length) +
                    " exceeds the file's " + std::to_string(size) + " bytes)");
  }
  std::string json(header_length, '\0');
  in.read(json.data(), static_cast<std::streamsize>(header_length));
  const nlohmann::json header = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) throw UserError(path + ": safetensors header is not a JSON object");

  const uint64_t data_size = size - 8 - header_length;
  std::string data(data_size, '\0');
  if (!in.read(data.data(), static_cast<std::streamsize>(data_size))) throw UserError(path + ": cannot read the tensor data");

  SafetensorsFile file;
  // Tensors are returned in data order, which is the order the writer laid them out.
  std::vector<std::pair<uint64_t, std::pair<std::string, torch::Tensor>>> ordered;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw UserError(path + ": __metadata__ must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) throw UserError(path + ": __metadata__." + printable(key, 60) + " must be a string");
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = path + ": tensor \"" + printable(name, 80) + "\"";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets")) {
      throw UserError(where + " needs dtype, shape and data_offsets");
    }
    torch::ScalarType type = torch::kFloat32;
    bool known = false;
    for (const auto& [dtype, t] : dtype_names()) {
      if (entry["dtype"] == dtype) type = t, known = true;
    }
    if (!known) throw UserError(where + ": unsupported dtype " + entry["dtype"].dump());
    std::vector<int64_t> shape;
    uint64_t elements = 1;
    if (!entry["shape"].is_array() || entry["shape"].size() > 8) throw UserError(where + ": shape must be a list of at most 8 sizes");
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) throw UserError(where + ": shape must hold non-negative integers");
      // Any size past the file's bytes is a lie; checked before multiplying, so nothing overflows.
      if (d.get<uint64_t>() > size || (d.get<uint64_t>() > 0 && elements > size / d.get<uint64_t>())) {
        throw UserError(where + ": shape " + printable(entry["shape"].dump(), 80) + " holds more elements than the file's " +
                        std::to_string(size) + " bytes");
      }
      shape.push_back(d.get<int64_t>());
      elements *= d.get<uint64_t>();
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      throw UserError(where + ": data_offsets must be [begin, end]");
    }
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    const auto element = static_cast<uint64_t>(c10::elementSize(type));
    if (elements > data_size / element + 1) {
      throw UserError(where + ": shape holds more elements than the file's " + std::to_string(data_size) + " data bytes");
    }
    const uint64_t expected = elements * element;
    if (begin > end || end > data_size || end - begin != expected) {
      throw UserError(where + ": byte range [" + std::to_string(begin) + ", " + std::to_string(end) +
                      ") does not fit its shape (" + std::to_string(expected) + " bytes) or the file (" +
                      std::to_string(data_size) + " data bytes); the file is truncated or corrupt");
    }
    torch::Tensor tensor = torch::empty(shape, torch::TensorOptions().dtype(type));
    if (expected > 0) std::memcpy(tensor.data_ptr(), data.data() + begin, expected);
    ordered.push_back({begin, {name, tensor}});
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& item : ordered) file.tensors.push_back(std::move(item.second));
  return file;
}

std::string shape_text(at::IntArrayRef sizes) {
  std::string out = "[";
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? "," : "") + std::to_string(sizes[i]);
  return out + "]";
}

}  // namespace stratum
