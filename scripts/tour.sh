#!/usr/bin/env bash
# eka's main job, end to end, on a built-in example: make a set with two atoms.
# (Later steps — publish, add, resolve, verify, evaluate with Nix — join as they land.)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo build --quiet --locked -p eka
eka="$PWD/${CARGO_TARGET_DIR:-target}/debug/eka"
case "${CARGO_TARGET_DIR:-}" in /*) eka="$CARGO_TARGET_DIR/debug/eka" ;; esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME="$work/home"
export GIT_AUTHOR_NAME=tour GIT_AUTHOR_EMAIL=tour@eka.invalid
export GIT_COMMITTER_NAME=tour GIT_COMMITTER_EMAIL=tour@eka.invalid
mkdir -p "$HOME"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step eka init --git registry
"$eka" -C "$work" init --git registry
step eka new atoms/hello --description "says hello"
"$eka" -C "$work/registry" new atoms/hello --description "says hello"
step eka new atoms/world --label world --version 1.0.0
"$eka" -C "$work/registry" new atoms/world --label world --version 1.0.0
step cat ekala.toml
cat "$work/registry/ekala.toml"
step cat atoms/hello/atom.toml
cat "$work/registry/atoms/hello/atom.toml"
printf '\ntour complete\n'
