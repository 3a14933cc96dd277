# Sourced by the bench scripts: a private, reproducible place to run eka, git and Nix.
# Sets `work` (a temporary directory removed on exit, read-only store files included),
# `results` (hyperfine's JSON goes there) and `benches` (this directory); gives HOME and
# the XDG directories their own places under `work`; makes git ignore the user's and the
# system's configuration and date every commit; unsets what would make eka or Nix read
# the user's configuration. The caller sets NIX_CONFIG when it runs Nix.
work=$(mktemp -d)
results=$work/results
mkdir -p "$results"
benches=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache
export XDG_DATA_HOME=$work/data
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@eka.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@eka.invalid
export GIT_AUTHOR_DATE='1700000000 +0000' GIT_COMMITTER_DATE='1700000000 +0000'
unset EKA_CONFIG EKA_CACHE_DIR NO_COLOR NIX_REMOTE NIX_PATH NIX_STORE_DIR NIX_STATE_DIR NIX_CONF_DIR
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
