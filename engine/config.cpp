// The only place that reads YAML. Loading goes: read file -> follow `extends:` (merging
// child over base) -> apply `--set` overrides -> walk the typed structs' field lists, which
// converts, range-checks and rejects unknown keys, naming file:line:col for every error.

#include "engine/config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <type_traits>

#include "core/error.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace stratum {

// ---------------------------------------------------------------------------------------------
// Rules and provenance
// ---------------------------------------------------------------------------------------------

std::string Rule::describe(bool integer) const {
  if (!choices.empty()) return "one of: " + join(choices, ", ");
  const std::string noun = integer ? "an integer" : "a number";
  // Integer bounds in full (16777216, not 1.67772e+07): they are what the user must type.
  const auto bound = [&](double v) {
    return integer && std::abs(v) < 9007199254740992.0 ? std::to_string(static_cast<long long>(v)) : format_number(v);
  };
  const bool has_min = std::isfinite(min), has_max = std::isfinite(max);
  if (has_min && min == 0 && min_exclusive && !has_max) return integer ? "a positive integer" : "a positive number";
  if (has_min && has_max) return noun + " in [" + bound(min) + ", " + bound(max) + "]";
  if (has_min) return noun + (min_exclusive ? " > " : " >= ") + bound(min);
  if (has_max) return noun + " <= " + bound(max);
  return noun;
}

std::string ConfigSources::locate(const std::string& key) const {
  std::string k = key;
  while (!k.empty()) {
    auto it = where.find(k);
    if (it != where.end()) return it->second;
    auto dot = k.rfind('.');
    k = dot == std::string::npos ? "" : k.substr(0, dot);
  }
  return top_file;
}

void RunConfig::fail(const std::string& key, const std::string& message) const {
  const std::string at = sources ? sources->locate(key) : std::string("<config>");
  throw UserError(at + ": " + key + ": " + message);
}

namespace {

std::string position(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

std::string join_key(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// ---------------------------------------------------------------------------------------------
// What a config may hold, checked on the parser's events before any tree is built
// ---------------------------------------------------------------------------------------------

// Bounds that no real config comes near; past them the input is an attack or an accident.
constexpr uintmax_t kMaxConfigBytes = 1 << 20;
constexpr size_t kMaxExtendsDepth = 16;
constexpr int kMaxNesting = 32;
constexpr size_t kMaxNodes = 100000;

// Refuses, with the position: aliases (a self-referencing or exponentially expanding alias
// would crash or exhaust the machine, and a config needs none), duplicate keys in one mapping
// (YAML forbids them; yaml-cpp would keep one silently), several documents, nesting deeper
// than kMaxNesting and more than kMaxNodes nodes.
class ConfigShapeCheck : public YAML::EventHandler {
 public:
  explicit ConfigShapeCheck(std::string origin) : origin_(std::move(origin)) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) fail(mark, "holds more than one YAML document (---); a config is one mapping");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, nullptr), ended(); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    fail(mark, "aliases (*name) are not allowed in configs; write the value out (use extends: to share a base)");
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string& value) override {
    node(mark, &value), ended();
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark, nullptr), open_.push_back({false, true, {}});
    if (open_.size() > kMaxNesting) fail(mark, "nested deeper than " + std::to_string(kMaxNesting) + " levels");
  }
  void OnSequenceEnd() override { open_.pop_back(), ended(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark, nullptr), open_.push_back({true, true, {}});
    if (open_.size() > kMaxNesting) fail(mark, "nested deeper than " + std::to_string(kMaxNesting) + " levels");
  }
  void OnMapEnd() override { open_.pop_back(), ended(); }

 private:
  struct Collection {
    bool map;
    bool expecting_key;
    std::map<std::string, YAML::Mark> keys;
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& what) const {
    throw UserError(position(origin_, mark) + ": " + what);
  }

  // A node starts; `scalar` is its text when it is a scalar.
  void node(const YAML::Mark& mark, const std::string* scalar) {
    if (++nodes_ > kMaxNodes) fail(mark, "more than " + std::to_string(kMaxNodes) + " YAML nodes");
    if (open_.empty() || !open_.back().map || !open_.back().expecting_key || !scalar) return;
    const auto [it, fresh] = open_.back().keys.emplace(*scalar, mark);
    if (!fresh) {
      fail(mark, "duplicate key \"" + printable(*scalar, 60) + "\" (first at line " + std::to_string(it->second.line + 1) +
                     "); YAML keys must be unique in a mapping");
    }
  }

  // A node ended: in a mapping, keys and values alternate.
  void ended() {
    if (!open_.empty() && open_.back().map) open_.back().expecting_key = !open_.back().expecting_key;
  }

  std::string origin_;
  std::vector<Collection> open_;
  size_t nodes_ = 0;
  int documents_ = 0;
};

// Parses `text` after checking its shape; errors name `origin` (a file or a --set).
YAML::Node parse_config_yaml(const std::string& text, const std::string& origin, const char* what) {
  try {
    std::istringstream events(text);
    YAML::Parser parser(events);
    ConfigShapeCheck check(origin);
    while (parser.HandleNextDocument(check)) {
    }
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UserError(position(origin, e.mark) + ": " + what + ": " + printable(e.msg, 200));
  }
}

// ---------------------------------------------------------------------------------------------
// Reading files, `extends:` and `--set`
// ---------------------------------------------------------------------------------------------

// A YAML tree together with where each key's value came from.
struct SourcedTree {
  YAML::Node root;
  std::map<std::string, std::string> where;
};

void record_positions(const YAML::Node& node, const std::string& prefix, const std::string& file,
                      std::map<std::string, std::string>& where) {
  if (node.IsSequence()) {  // lists of sections (data.sources): their keys are KEY[i].name
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string key = prefix + "[" + std::to_string(i) + "]";
      where[key] = position(file, node[i].Mark());
      record_positions(node[i], key, file, where);
    }
    return;
  }
  if (!node.IsMap()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = join_key(prefix, it->first.Scalar());
    // Errors point at the key: that is where a reader's eye finds the line to fix.
    where[key] = position(file, it->first.Mark());
    record_positions(it->second, key, file, where);
  }
}

// Child over base: maps merge key by key, anything else is replaced whole.
YAML::Node merge(const YAML::Node& base, const YAML::Node& over) {
  if (!base.IsMap() || !over.IsMap()) return YAML::Clone(over);
  YAML::Node out(YAML::NodeType::Map);
  for (auto it = base.begin(); it != base.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (!over[key]) out[key] = YAML::Clone(it->second);
  }
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string key = it->first.Scalar();
    const YAML::Node b = base[key];
    out[key] = b ? merge(b, it->second) : YAML::Clone(it->second);
  }
  return out;
}

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw UserError(path + ": cannot read config file: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot read config file: " + std::strerror(errno));
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) {
    throw UserError(path + ": cannot read config file: larger than " + std::to_string(kMaxConfigBytes >> 20) +
                    " MiB (a config is a short YAML file)");
  }
  return text;
}

SourcedTree load_tree(const std::string& path, std::vector<std::string>& chain) {
  std::error_code ec;
  std::string canonical = fs::weakly_canonical(fs::absolute(path, ec), ec).string();
  if (ec) throw UserError(path + ": cannot read config file: " + ec.message());
  if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
    std::string cycle;
    for (const auto& p : chain) cycle += fs::path(p).filename().string() + " -> ";
    throw UserError(path + ": extends cycle: " + cycle + fs::path(canonical).filename().string());
  }
  if (chain.size() >= kMaxExtendsDepth) {
    throw UserError(path + ": extends: more than " + std::to_string(kMaxExtendsDepth) + " files deep (from " +
                    chain.front() + ")");
  }
  chain.push_back(canonical);

  const std::string text = read_text_file(path);
  SourcedTree tree;
  tree.root = parse_config_yaml(text, path, "malformed YAML");
  if (!tree.root || tree.root.IsNull()) tree.root = YAML::Node(YAML::NodeType::Map);
  if (!tree.root.IsMap()) {
    throw UserError(position(path, tree.root.Mark()) + ": expected a mapping of sections at the top level");
  }
  record_positions(tree.root, "", path, tree.where);

  if (const YAML::Node ext = tree.root["extends"]) {
    if (!ext.IsScalar() || ext.Scalar().empty()) {
      throw UserError(position(path, ext.Mark()) + ": extends: expected the path of a base YAML file");
    }
    const fs::path base_path = fs::path(path).parent_path() / ext.Scalar();
    if (!fs::exists(base_path, ec)) {
      throw UserError(position(path, ext.Mark()) + ": extends: cannot read config file " + printable(base_path.string()) +
                      ": " + (ec ? ec.message() : std::string("no such file")));
    }
    SourcedTree base = load_tree(base_path.string(), chain);
    tree.root.remove("extends");
    tree.where.erase("extends");
    SourcedTree merged;
    merged.root = merge(base.root, tree.root);
    merged.where = std::move(base.where);
    for (auto& [key, where] : tree.where) merged.where[key] = where;
    tree = std::move(merged);
  }
  chain.pop_back();
  return tree;
}

void apply_override(SourcedTree& tree, const std::string& assignment) {
  const std::string origin = "--set " + printable(assignment, 80);
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw UserError(origin + ": expected KEY=VALUE, e.g. trainer.lr=0.001");
  const std::string key = assignment.substr(0, eq);
  const std::vector<std::string> parts = split(key, '.');
  for (const auto& part : parts) {
    if (part.empty()) throw UserError(origin + ": malformed key \"" + printable(key, 60) + "\"");
  }
  const std::string text = assignment.substr(eq + 1);
  // A lone "-" (standard input, as in data.path=-) would be YAML for a one-item list.
  YAML::Node value = text == "-" ? YAML::Node(text) : parse_config_yaml(text, origin, "malformed value");
  if (!value || value.IsNull()) value = YAML::Node(std::string());

  // Walk down, creating sections as needed; yaml-cpp nodes are handles, so assign via copies.
  std::vector<YAML::Node> path_nodes{tree.root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node parent = path_nodes.back();
    YAML::Node child = parent[parts[i]];
    if (!child.IsDefined() || child.IsNull()) {
      parent[parts[i]] = YAML::Node(YAML::NodeType::Map);
      child = parent[parts[i]];
    } else if (!child.IsMap()) {
      std::string prefix;
      for (size_t j = 0; j <= i; ++j) prefix = join_key(prefix, parts[j]);
      throw UserError(origin + ": " + prefix + " is a value, not a section");
    }
    path_nodes.push_back(child);
  }
  path_nodes.back()[parts.back()] = value;
  tree.where[key] = origin;
  std::map<std::string, std::string> inner;
  record_positions(value, key, origin, inner);
  for (auto& [k, w] : inner) tree.where[k] = origin;
}

// ---------------------------------------------------------------------------------------------
// Converting YAML values to typed fields
// ---------------------------------------------------------------------------------------------

// Describes what a node holds, for "got ..." in messages.
std::string describe_node(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "\"" + printable(node.Scalar(), 80) + "\"";
}

// Choice enums: their words (in the rule the visitors pass on) are what is expected.
template <class T>
struct TypeName {
  static std::string expected(const Rule& r) { return r.describe(false); }
};
template <>
struct TypeName<bool> {
  static std::string expected(const Rule&) { return "true or false"; }
};
template <>
struct TypeName<int64_t> {
  static std::string expected(const Rule& r) { return r.describe(true); }
};
template <>
struct TypeName<double> {
  static std::string expected(const Rule& r) { return r.describe(false); }
};
template <>
struct TypeName<std::string> {
  static std::string expected(const Rule& r) { return r.choices.empty() ? "a string" : r.describe(false); }
};

// Reports a conversion failure at the position the key came from.
struct Context {
  const ConfigSources& sources;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw UserError(sources.locate(key) + ": " + key + ": " + what);
  }
};

bool in_rule(double x, const Rule& r) {
  if (r.min_exclusive ? !(x > r.min) : !(x >= r.min)) return false;
  return x <= r.max;
}

std::string suggestion(const std::string& word, const std::vector<std::string>& options) {
  const std::string best = nearest(word, options);
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

bool parse_scalar(const YAML::Node& node, const Rule&, bool& out) {
  if (!node.IsScalar()) return false;
  const std::string& s = node.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") return out = true, true;
  if (s == "false" || s == "False" || s == "FALSE") return out = false, true;
  return false;
}

bool parse_scalar(const YAML::Node& node, const Rule& rule, int64_t& out) {
  if (!node.IsScalar()) return false;
  const std::string& s = node.Scalar();
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  if (!in_rule(static_cast<double>(v), rule)) return false;
  out = v;
  return true;
}

bool parse_scalar(const YAML::Node& node, const Rule& rule, double& out) {
  if (!node.IsScalar()) return false;
  const std::string& s = node.Scalar();
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v)) return false;
  if (!in_rule(v, rule)) return false;
  out = v;
  return true;
}

bool parse_scalar(const YAML::Node& node, const Rule& rule, std::string& out) {
  if (!node.IsScalar()) return false;
  if (!rule.choices.empty() &&
      std::find(rule.choices.begin(), rule.choices.end(), node.Scalar()) == rule.choices.end()) {
    return false;
  }
  out = node.Scalar();
  return true;
}

template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
bool parse_scalar(const YAML::Node& node, const Rule&, E& out) {
  return node.IsScalar() && parse_choice(node.Scalar(), out);
}

template <class T>
struct EnumList : std::false_type {};
template <class E>
struct EnumList<std::vector<E>> : std::is_enum<E> {};

// The rule a field is checked against: a choice enum's words (or a list of them) are its
// allowed values.
template <class T>
Rule effective_rule(Rule rule) {
  if constexpr (std::is_enum_v<T>) {
    rule.choices = choice_words<T>();
  } else if constexpr (EnumList<T>::value) {
    rule.choices = choice_words<typename T::value_type>();
  }
  return rule;
}

template <class T>
void convert(const YAML::Node& node, const std::string& key, const Rule& rule, const Context& ctx, T& out) {
  if (!parse_scalar(node, rule, out)) {
    std::string hint;
    if (node.IsScalar() && !rule.choices.empty()) hint = suggestion(node.Scalar(), rule.choices);
    ctx.fail(key, "expected " + TypeName<T>::expected(rule) + ", got " + describe_node(node) + hint);
  }
}

template <class T>
void convert(const YAML::Node& node, const std::string& key, const Rule& rule, const Context& ctx,
             std::vector<T>& out) {
  if (!node.IsSequence()) {
    ctx.fail(key, "expected a list (each " + TypeName<T>::expected(rule) + "), got " + describe_node(node));
  }
  std::vector<T> values;
  for (size_t i = 0; i < node.size(); ++i) {
    T value{};
    if (!parse_scalar(node[i], rule, value)) {
      ctx.fail(key, "item " + std::to_string(i) + ": expected " + TypeName<T>::expected(rule) + ", got " +
                        describe_node(node[i]));
    }
    values.push_back(value);
  }
  out = std::move(values);
}

// ---------------------------------------------------------------------------------------------
// Visitors over the field lists in config.h
// ---------------------------------------------------------------------------------------------

template <class S>
class Parser {
 public:
  Parser(S& target, const YAML::Node& node, std::string prefix, const Context& ctx)
      : target_(target), node_(node), prefix_(std::move(prefix)), ctx_(ctx) {}

  template <class T>
  void field(const char* name, T S::*member, const char*, const Rule& rule = {}) {
    known_.push_back(name);
    const std::string key = join_key(prefix_, name);
    const YAML::Node child = node_.IsMap() ? node_[name] : YAML::Node();
    if (!child.IsDefined() || child.IsNull()) {
      if (rule.required) ctx_.fail(key, "missing required key");
      return;
    }
    convert(child, key, effective_rule<T>(rule), ctx_, target_.*member);
  }

  template <class Sub>
  void section(const char* name, Sub S::*member, const char*) {
    known_.push_back(name);
    const std::string key = join_key(prefix_, name);
    const YAML::Node child = node_.IsMap() ? node_[name] : YAML::Node();
    if (child.IsDefined() && !child.IsNull() && !child.IsMap()) {
      ctx_.fail(key, "expected a section (a mapping of keys), got " + describe_node(child));
    }
    Parser<Sub> sub(target_.*member, child.IsDefined() ? child : YAML::Node(), key, ctx_);
    Sub::describe(sub);
    sub.reject_unknown_keys();
  }

  // A list of sections: each item starts from `defaults` (what the enclosing section says)
  // and is parsed like a section under KEY[i].
  template <class Sub>
  void list(const char* name, std::vector<Sub> S::*member, Sub (S::*defaults)() const, const char*) {
    known_.push_back(name);
    const std::string key = join_key(prefix_, name);
    const YAML::Node child = node_.IsMap() ? node_[name] : YAML::Node();
    if (!child.IsDefined() || child.IsNull()) return;
    if (!child.IsSequence()) ctx_.fail(key, "expected a list of sections, got " + describe_node(child));
    std::vector<Sub> items;
    for (size_t i = 0; i < child.size(); ++i) {
      const std::string item_key = key + "[" + std::to_string(i) + "]";
      if (!child[i].IsMap()) ctx_.fail(item_key, "expected a section (a mapping of keys), got " + describe_node(child[i]));
      items.push_back((target_.*defaults)());
      Parser<Sub> sub(items.back(), child[i], item_key, ctx_);
      Sub::describe(sub);
      sub.reject_unknown_keys();
    }
    target_.*member = std::move(items);
  }

  void reject_unknown_keys() const {
    if (!node_.IsDefined() || !node_.IsMap()) return;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const std::string name = it->first.Scalar();
      if (std::find(known_.begin(), known_.end(), name) == known_.end()) {
        throw UserError(ctx_.sources.locate(join_key(prefix_, name)) + ": " + join_key(prefix_, printable(name, 60)) +
                        ": unknown key" + suggestion(name.substr(0, 64), known_));
      }
    }
  }

 private:
  S& target_;
  YAML::Node node_;
  std::string prefix_;
  const Context& ctx_;
  std::vector<std::string> known_;
};

std::string emit_double(double v) {
  // Shortest text that reads back to exactly the same double.
  char buf[64];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

void emit_value(YAML::Emitter& out, bool v) { out << (v ? "true" : "false"); }
void emit_value(YAML::Emitter& out, int64_t v) { out << std::to_string(v); }
void emit_value(YAML::Emitter& out, double v) { out << emit_double(v); }
void emit_value(YAML::Emitter& out, const std::string& v) { out << YAML::DoubleQuoted << v; }
template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
void emit_value(YAML::Emitter& out, E v) {
  out << YAML::DoubleQuoted << choice_name(v);
}
template <class T>
void emit_value(YAML::Emitter& out, const std::vector<T>& values) {
  out << YAML::Flow << YAML::BeginSeq;
  for (const auto& v : values) emit_value(out, v);
  out << YAML::EndSeq;
}

template <class S>
class Dumper {
 public:
  Dumper(const S& source, YAML::Emitter& out) : source_(source), out_(out) {}

  template <class T>
  void field(const char* name, T S::*member, const char*, const Rule& = {}) {
    out_ << YAML::Key << name << YAML::Value;
    emit_value(out_, source_.*member);
  }

  template <class Sub>
  void section(const char* name, Sub S::*member, const char*) {
    out_ << YAML::Key << name << YAML::Value << YAML::BeginMap;
    Dumper<Sub> sub(source_.*member, out_);
    Sub::describe(sub);
    out_ << YAML::EndMap;
  }

  template <class Sub>
  void list(const char* name, std::vector<Sub> S::*member, Sub (S::*)() const, const char*) {
    out_ << YAML::Key << name << YAML::Value << YAML::BeginSeq;
    for (const Sub& item : source_.*member) {
      out_ << YAML::BeginMap;
      Dumper<Sub> sub(item, out_);
      Sub::describe(sub);
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }

 private:
  const S& source_;
  YAML::Emitter& out_;
};

template <class S>
class Equal {
 public:
  Equal(const S& a, const S& b) : a_(a), b_(b) {}
  bool same = true;

  template <class T>
  void field(const char*, T S::*member, const char*, const Rule& = {}) {
    same = same && (a_.*member == b_.*member);
  }

  template <class Sub>
  void section(const char*, Sub S::*member, const char*) {
    Equal<Sub> sub(a_.*member, b_.*member);
    Sub::describe(sub);
    same = same && sub.same;
  }

  template <class Sub>
  void list(const char*, std::vector<Sub> S::*member, Sub (S::*)() const, const char*) {
    const std::vector<Sub>& a = a_.*member;
    const std::vector<Sub>& b = b_.*member;
    same = same && a.size() == b.size();
    for (size_t i = 0; same && i < a.size(); ++i) {
      Equal<Sub> sub(a[i], b[i]);
      Sub::describe(sub);
      same = sub.same;
    }
  }

 private:
  const S& a_;
  const S& b_;
};

template <class T>
std::string type_word() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_same_v<T, int64_t>) return "int";
  else if constexpr (std::is_same_v<T, double>) return "number";
  else if constexpr (std::is_same_v<T, std::string> || std::is_enum_v<T>) return "string";
  else return "list of " + type_word<typename T::value_type>();
}

template <class S>
class Reference {
 public:
  Reference(const S& defaults, std::string prefix, std::ostringstream& out)
      : defaults_(defaults), prefix_(std::move(prefix)), out_(out) {}

  template <class T>
  void field(const char* name, T S::*member, const char* help, const Rule& declared = {}) {
    const Rule rule = effective_rule<T>(declared);
    YAML::Emitter value;
    value << YAML::Flow;
    emit_value(value, defaults_.*member);
    std::string line = "  " + join_key(prefix_, name) + " (" + type_word<T>() + ", ";
    line += rule.required ? std::string("required") : "default " + std::string(value.c_str());
    if constexpr (!std::is_same_v<T, bool>) {
      constexpr bool integer = std::is_same_v<T, int64_t> || std::is_same_v<T, std::vector<int64_t>>;
      if (!rule.choices.empty() || std::isfinite(rule.min) || std::isfinite(rule.max)) {
        line += ", " + rule.describe(integer);
      }
    }
    out_ << line << ")\n      " << help << "\n";
  }

  template <class Sub>
  void section(const char* name, Sub S::*member, const char*) {
    Reference<Sub> sub(defaults_.*member, join_key(prefix_, name), out_);
    Sub::describe(sub);
  }

  template <class Sub>
  void list(const char* name, std::vector<Sub> S::*, Sub (S::*defaults)() const, const char* help) {
    const std::string key = join_key(prefix_, name);
    out_ << "  " << key << " (list of sections, default [])\n      " << help << "\n";
    const Sub item = (defaults_.*defaults)();
    Reference<Sub> sub(item, key + "[]", out_);
    Sub::describe(sub);
  }

 private:
  const S& defaults_;
  std::string prefix_;
  std::ostringstream& out_;
};

// Every field as (dotted key, type, flow-YAML value); a list of sections is one entry.
template <class S>
class Flattener {
 public:
  Flattener(const S& source, std::string prefix, std::vector<ConfigEntry>& out)
      : source_(source), prefix_(std::move(prefix)), out_(out) {}

  template <class T>
  void field(const char* name, T S::*member, const char*, const Rule& = {}) {
    YAML::Emitter value;
    value << YAML::Flow;
    emit_value(value, source_.*member);
    out_.push_back({join_key(prefix_, name), std::is_enum_v<T> ? "choice" : type_word<T>(), value.c_str()});
  }

  template <class Sub>
  void section(const char* name, Sub S::*member, const char*) {
    Flattener<Sub> sub(source_.*member, join_key(prefix_, name), out_);
    Sub::describe(sub);
  }

  template <class Sub>
  void list(const char* name, std::vector<Sub> S::*member, Sub (S::*)() const, const char*) {
    YAML::Emitter value;
    value << YAML::Flow << YAML::BeginSeq;
    for (const Sub& item : source_.*member) {
      value << YAML::BeginMap;
      Dumper<Sub> sub(item, value);
      Sub::describe(sub);
      value << YAML::EndMap;
    }
    value << YAML::EndSeq;
    out_.push_back({join_key(prefix_, name), "list of sections", value.c_str()});
  }

 private:
  const S& source_;
  std::string prefix_;
  std::vector<ConfigEntry>& out_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::vector<std::string> chain;
  SourcedTree tree = load_tree(path, chain);
  for (const auto& assignment : overrides) apply_override(tree, assignment);

  auto sources = std::make_shared<ConfigSources>();
  sources->top_file = path;
  sources->where = tree.where;
  const Context ctx{*sources};

  RunConfig config;
  Parser<RunConfig> parser(config, tree.root, "", ctx);
  RunConfig::describe(parser);
  parser.reject_unknown_keys();
  config.sources = std::move(sources);
  return config;
}

std::string dump_config(const RunConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  Dumper<RunConfig> dumper(config, out);
  RunConfig::describe(dumper);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

bool operator==(const RunConfig& a, const RunConfig& b) {
  Equal<RunConfig> eq(a, b);
  RunConfig::describe(eq);
  return eq.same;
}

std::vector<ConfigEntry> flatten_config(const RunConfig& config) {
  std::vector<ConfigEntry> out;
  Flattener<RunConfig> flattener(config, "", out);
  RunConfig::describe(flattener);
  return out;
}

std::string config_reference() {
  std::ostringstream out;
  const RunConfig defaults;
  Reference<RunConfig> ref(defaults, "", out);
  RunConfig::describe(ref);
  return out.str();
}

}  // namespace stratum
