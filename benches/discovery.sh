#!/usr/bin/env bash
# Discover one label's versions in a registry of 60,000 atom refs (3,000 labels x 20
# versions): `eka show <url>::<label>` (cold and warm cache) against
# `git ls-remote <url> 'refs/eka/atoms/<label>/*'` and a `git fetch` of the same refs
# (atom commits without trees, and their manifest blobs) into an empty repository.
# Over file:// and over git:// (git daemon on loopback; measured here: protocol v2 on
# loopback stalls 40-90 ms per request on Nagle/delayed ACK, so git:// figures are
# latency-bound).
#
# Usage: benches/discovery.sh [path/to/eka]   (default: $CARGO_TARGET_DIR/release/eka)
# Env: LABELS (3000), VERSIONS (20), RUNS (10).
# Prints hyperfine's report, then a table of medians and ratios to `git ls-remote`.
# Needs: git, hyperfine.
set -euo pipefail

EKA=${1:-${CARGO_TARGET_DIR:-target}/release/eka}
EKA=$(realpath "$EKA")
LABELS=${LABELS:-3000}
VERSIONS=${VERSIONS:-20}
RUNS=${RUNS:-10}
LABEL=target

work=$(mktemp -d)
results=$work/results
mkdir -p "$results"
# medians BASELINE JSON…: one markdown row per command: median, ratio to BASELINE.
benches=$(cd "$(dirname "$0")" && pwd)
medians() { python3 "$benches/medians.py" "$@"; }
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@eka.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@eka.invalid
export GIT_AUTHOR_DATE='1700000000 +0000' GIT_COMMITTER_DATE='1700000000 +0000'
unset EKA_CONFIG EKA_CACHE_DIR NO_COLOR
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"

# The registry: a bare repository served as file:// and git://.
registry=$work/serve/registry.git
git init -q --bare "$registry"
git -C "$registry" config uploadpack.allowFilter true
git -C "$registry" config protocol.version 2

# The benchmarked label: $VERSIONS real publishes of one atom by `eka publish`.
src=$work/src
git init -q -b main "$src"
printf '[set]\npackages = ["%s"]\n' "$LABEL" >"$src/ekala.toml"
mkdir -p "$src/$LABEL"
for v in $(seq 1 "$VERSIONS"); do
  printf '[package]\nlabel = "%s"\nversion = "1.%d.0"\n' "$LABEL" "$v" >"$src/$LABEL/atom.toml"
  printf 'version %d\n' "$v" >"$src/$LABEL/data.txt"
  git -C "$src" add -A
  git -C "$src" commit -qm "$LABEL 1.$v.0"
  (cd "$src" && "$EKA" --quiet publish --all --remote "file://$registry" >/dev/null 2>&1) ||
    (cd "$src" && "$EKA" publish --all --remote "file://$registry")
done

# The other $LABELS-1 labels: refs only, all pointing at the source's few commits.
mapfile -t commits < <(git -C "$src" rev-list HEAD)
git -C "$src" push -q "file://$registry" "main:refs/heads/main"
{
  n=0
  for l in $(seq 2 "$LABELS"); do
    for v in $(seq 1 "$VERSIONS"); do
      printf 'create refs/eka/atoms/l%04d/1.%d.0 %s\n' "$l" "$v" "${commits[$((n % ${#commits[@]}))]}"
      n=$((n + 1))
    done
  done
} | git -C "$registry" update-ref --stdin
git -C "$registry" pack-refs --all
total=$(git -C "$registry" for-each-ref refs/eka/atoms/ | wc -l)
echo "registry: $total atom refs ($LABELS labels x $VERSIONS versions)" >&2

# git daemon on a free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --export-all \
  --base-path="$work/serve" "$work/serve" >/dev/null 2>&1 &
daemon_pid=$!
for _ in $(seq 1 50); do
  git ls-remote "git://127.0.0.1:$port/registry.git" HEAD >/dev/null 2>&1 && break
  sleep 0.1
done

cat >"$work/fetch.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
dir=$1 url=$2 label=$3
rm -rf "$dir"
git init -q --bare "$dir"
git -C "$dir" -c protocol.version=2 fetch -q --filter=tree:0 "$url" \
  "refs/eka/atoms/$label/*:refs/eka/atoms/$label/*" \
  "refs/eka/meta/$label/*:refs/eka/meta/$label/*"
EOF
chmod +x "$work/fetch.sh"

for scheme in file git; do
  if [ "$scheme" = file ]; then url=file://$registry; else url=git://127.0.0.1:$port/registry.git; fi
  # Sanity: every tool sees the same $VERSIONS versions.
  seen=$("$EKA" show --json "$url::$LABEL" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["atoms"][0]["versions"]))')
  listed=$(git -c protocol.version=2 ls-remote "$url" "refs/eka/atoms/$LABEL/*" | wc -l)
  echo "$scheme: eka show sees $seen versions, git ls-remote $listed refs" >&2
  hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$results/$scheme.json" \
    --command-name "eka show (cold cache)" --prepare "rm -rf $XDG_CACHE_HOME/eka" \
    "$EKA show $url::$LABEL" \
    --command-name "eka show (warm cache)" \
    "$EKA show $url::$LABEL" \
    --command-name "git ls-remote (prefix)" \
    "git -c protocol.version=2 ls-remote $url 'refs/eka/atoms/$LABEL/*'" \
    --command-name "git fetch --filter=tree:0 (atoms+meta)" \
    "$work/fetch.sh $work/fetched.git $url $LABEL" \
    --command-name "git ls-remote (all 60k refs, reference)" \
    "git -c protocol.version=2 ls-remote $url >/dev/null"
done
medians "git ls-remote (prefix)" "$results/file.json" "$results/git.json"
