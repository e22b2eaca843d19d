#!/usr/bin/env bash
# The layering rule (README, "Layout"): a folder includes only itself and the folders below it.
#   core/                      -> core
#   data/                      -> core, data
#   models/                    -> core, models
#   adapters/, distributed/    -> core, models, and itself (not each other, not data/)
#   engine/                    -> everything; only engine/cli/ includes engine/cli/
# Tests follow the folder they test (tests/distributed/ drives the engine from above). Third-party headers stay where DESIGN.md puts them:
# yaml-cpp in engine/config.cpp only, spdlog in core/log.cpp only.
#
#   scripts/check_layers.sh [ROOT]     check the tree at ROOT (default: this repository)
#   scripts/check_layers.sh --self-test  show that a planted upward include fails the check
set -euo pipefail

allowed() {  # folder -> the top-level folders its files may include
  case "$1" in
    core) echo "core" ;;
    data) echo "core data" ;;
    models) echo "core models" ;;
    adapters) echo "core models adapters" ;;
    distributed) echo "core models distributed" ;;
    engine | examples) echo "core data models adapters distributed engine" ;;
  esac
}

check() {
  local root=$1 bad=0 file rel top inc target line
  while IFS= read -r file; do
    rel=${file#"$root"/}
    top=${rel%%/*}
    if [ "$top" = tests ]; then
      top=${rel#tests/}
      top=${top%%/*}
      # The multi-process tests run the engine's evaluation and LoRA over real process groups:
      # they test distributed/ from above, in the engine's test executable.
      [ "$top" = distributed ] && top=engine
    fi
    local ok
    ok=$(allowed "$top")
    [ -z "$ok" ] && continue  # tests/support, tests/integration, ...: they drive the binary
    while IFS= read -r line; do
      inc=${line#*\"}
      inc=${inc%%\"*}
      target=${inc%%/*}
      [ "$target" = "$inc" ] && continue  # a sibling file in the same folder
      case " $ok " in *" $target "*) ;; *)
        case " core data models adapters distributed engine " in *" $target "*)
          echo "$rel: includes \"$inc\": $top/ may include only: $ok" >&2
          bad=1 ;;
        esac ;;
      esac
      if [[ "$inc" == engine/cli/* && "$rel" != engine/cli/* && "$rel" != tests/* ]]; then
        echo "$rel: includes \"$inc\": only engine/cli/ includes the command-line layer" >&2
        bad=1
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
    if grep -qE '#[[:space:]]*include[[:space:]]*<yaml-cpp/' "$file" && [ "$rel" != engine/config.cpp ]; then
      echo "$rel: includes yaml-cpp: only engine/config.cpp reads YAML" >&2
      bad=1
    fi
    if grep -qE '#[[:space:]]*include[[:space:]]*<spdlog/' "$file" && [ "$rel" != core/log.cpp ]; then
      echo "$rel: includes spdlog: only core/log.cpp uses it" >&2
      bad=1
    fi
  done < <(find "$root/core" "$root/data" "$root/models" "$root/adapters" "$root/distributed" "$root/engine" \
             "$root/examples" "$root/tests" \( -name '*.h' -o -name '*.cpp' \) 2>/dev/null | sort)
  return $bad
}

self_test() {
  local dir
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  mkdir -p "$dir/core" "$dir/data" "$dir/models" "$dir/engine/cli"
  printf '#include "core/error.h"\n' > "$dir/data/source.h"
  printf '#include "core/error.h"\n#include "models/model.h"\n' > "$dir/engine/trainer.cpp"
  printf '#include "engine/trainer.h"\n' > "$dir/engine/cli/main.cpp"
  printf '#include <vector>\n' > "$dir/core/error.h"
  check "$dir" || { echo "self-test: a clean tree failed the check" >&2; return 1; }
  local planted
  for planted in 'core/error.h:#include "data/source.h"' 'data/source.h:#include "models/model.h"' \
                 'models/model.h:#include "engine/trainer.h"' 'engine/trainer.cpp:#include "engine/cli/args.h"' \
                 'data/source.h:#include <yaml-cpp/yaml.h>'; do
    local file=${planted%%:*} line=${planted#*:}
    cp "$dir/$file" "$dir/$file.orig" 2>/dev/null || touch "$dir/$file.orig"
    echo "$line" >> "$dir/$file"
    if check "$dir" 2>/dev/null; then
      echo "self-test: planted $line in $file and the check passed" >&2
      return 1
    fi
    mv "$dir/$file.orig" "$dir/$file"
  done
  echo "layering self-test: a clean tree passes; 5 planted upward includes each fail it"
}

if [ "${1:-}" = --self-test ]; then
  self_test
else
  root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
  check "$root" && echo "layering: every #include points down or within its folder"
fi
