#!/usr/bin/env bash
# eka's main job, end to end, on a built-in example:
#   a registry set with two atoms (greeter depends on base) is published to a bare git
#   repository; a consumer adds greeter by URI, eka resolves the graph and writes
#   atom.lock; `eka verify` proves the locked bytes are the published ones; Nix evaluates
#   the consumer from its locked inputs, in pure mode.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo build --quiet --locked -p eka
target="${CARGO_TARGET_DIR:-$PWD/target}"
eka="$target/debug/eka"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A private, reproducible environment: nothing of the caller's git or eka config is read.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME="$work/home"
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
export GIT_AUTHOR_NAME=tour GIT_AUTHOR_EMAIL=tour@eka.invalid
export GIT_COMMITTER_NAME=tour GIT_COMMITTER_EMAIL=tour@eka.invalid
export NIX_CONFIG=$'substituters =\nflake-registry =\nbuild-users-group =\n'
unset NIX_PATH NIX_REMOTE
mkdir -p "$HOME"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
show() { printf '\n\033[2m--- %s\033[0m\n' "$1"; cat "$1"; }

# 1. A registry: any git repository is one.
cd "$work"
step eka init --git registry
"$eka" init --git registry
cd registry
step eka new atoms/base --version 1.0.0
"$eka" new atoms/base --version 1.0.0 --description "numbers"
step eka new atoms/greeter --version 0.2.0
"$eka" new atoms/greeter --version 0.2.0 --description "greetings"
sed -i 's/^\(version = "1.0.0"\)$/\1\nentry = "default.nix"/' atoms/base/atom.toml
cat > atoms/base/default.nix <<'NIX'
{ ... }: { answer = 42; }
NIX
cat > atoms/greeter/atom.toml <<'TOML'
# A greeter: uses `base` from its own set.
[package]
label = "greeter"
version = "0.2.0"
description = "greetings"
entry = "default.nix"

[package.sets]
here = "::"           # the set this manifest lives in, wherever it is fetched from

[deps.from.here]
base = "^1"
TOML
cat > atoms/greeter/default.nix <<'NIX'
{ deps, atom, ... }: {
  greet = name: "hello, ${name}: the answer is ${toString deps.base.answer} (${atom.label} ${atom.version})";
}
NIX
show ekala.toml
show atoms/greeter/atom.toml
git add -A && git commit -qm "two atoms"

# 2. Publish: reproducible atom commits under refs/eka/atoms/<label>/<version>, one push.
git init -q --bare "$work/registry.git"
git remote add origin "file://$work/registry.git"
step eka publish --all
"$eka" publish --all
step git ls-remote registry.git
git ls-remote "$work/registry.git"

# 3. Consume: add by URI, resolve with PubGrub over the advertised versions, lock.
cd "$work"
"$eka" init --git app >/dev/null 2>&1
cd app
"$eka" new hello --version 0.1.0 >/dev/null 2>&1
cd hello
step eka add "file://$work/registry.git::greeter@^0.2"
"$eka" add "file://$work/registry.git::greeter@^0.2"
sed -i 's/^\(version = "0.1.0"\)$/\1\nentry = "default.nix"/' atom.toml
cat > default.nix <<'NIX'
{ deps, ... }: deps.greeter.greet "tour"
NIX
show atom.toml
show atom.lock
step eka tree
"$eka" tree

# 4. Verify: re-fetch, re-hash with BLAKE3, check ids, headers, refs and the closure.
step eka verify
"$eka" verify

# 5. Evaluate with Nix, pure mode, locked inputs only.
step eka eval
"$eka" eval
printf '\ntour complete\n'
