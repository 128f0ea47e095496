#!/usr/bin/env bash
# Fails when a header under include/wsload/<folder>/ includes a folder that docs/architecture.md
# does not allow it. Prints one line per forbidden include (file:line: what and why).
#   check_includes.sh [INCLUDE_DIR [ARCHITECTURE_MD]]   (defaults: this repository's)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
include_dir=${1:-$here/include}
rules_file=${2:-$here/docs/architecture.md}

declare -A allowed
in_rules=0
while IFS= read -r line; do
  case $line in
    *'allowed-includes:begin'*) in_rules=1; continue ;;
    *'allowed-includes:end'*) in_rules=0; continue ;;
  esac
  ((in_rules)) || continue
  line=${line#"${line%%[![:space:]]*}"}
  [[ $line == *:* ]] || continue
  allowed[${line%%:*}]=" ${line#*:} "
done < "$rules_file"
((${#allowed[@]})) || { echo "check_includes: no allowed-includes list in $rules_file" >&2; exit 2; }
[[ -d $include_dir/wsload ]] || { echo "check_includes: no wsload/ under $include_dir" >&2; exit 2; }

violations=0 checked=0
while IFS= read -r -d '' file; do
  rel=${file#"$include_dir/wsload/"}
  [[ $rel == */* ]] || continue  # wsload.hpp, version.hpp: outside the folders
  folder=${rel%%/*}
  if [[ -z ${allowed[$folder]+set} ]]; then
    echo "$file: folder \"$folder\" is not in $rules_file (add it to the list)"
    violations=$((violations + 1))
    continue
  fi
  rules=${allowed[$folder]}
  checked=$((checked + 1))
  while IFS=: read -r number text; do
    target=$(sed -E 's|.*#include[[:space:]]*<wsload/([^>]*)>.*|\1|' <<<"$text")
    [[ $target == */* ]] || continue  # version.hpp and the umbrella are no folder
    used=${target%%/*}
    [[ $used == "$folder" || $rules == *" * "* || $rules == *" $used "* ]] && continue
    echo "$file:$number: \"$folder\" includes <wsload/$target>, but $folder/ may include only${rules% } (docs/architecture.md)"
    violations=$((violations + 1))
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<wsload/' "$file" || true)
done < <(find "$include_dir/wsload" -type f \( -name '*.hpp' -o -name '*.ipp' \) -print0 | sort -z)

if ((violations)); then
  echo "check_includes: $violations forbidden include(s) in $checked headers" >&2
  exit 1
fi
echo "check_includes: $checked headers follow docs/architecture.md"
