#!/usr/bin/env bash
# Verify the attestations of 100 locked atoms served by one mirror: a set of $ATOMS
# atoms, each with an entry point building a tiny derivation, published with
# `eka publish --all` to a local bare repository, attested in one `eka attest` run (an
# Ed25519 key made by `ssh-keygen`), and a consumer locking all of them from that mirror
# (`file://`). Measured warm (the atoms and tags already in eka's cache):
# `eka verify --attestations --require-attested` (the default configuration's refs
# listed) and `eka verify --attestations` (every configuration's refs listed), against
# `eka verify` alone (the share of the attestations) and against stock `git verify-tag` of the same tags (one process
# per tag, and one process for all of them), each git run with the same allowed signers.
#
# Usage: benches/attest.sh [path/to/eka]   (default: $CARGO_TARGET_DIR/release/eka)
# Env: ATOMS (100), RUNS (10).
# Prints hyperfine's report, then a table of medians and ratios to the `git verify-tag`
# loop. Results: docs/benchmarks.md. Needs: git, nix (2.8+), ssh-keygen, hyperfine,
# python3.
set -euo pipefail

EKA=${1:-${CARGO_TARGET_DIR:-target}/release/eka}
EKA=$(realpath "$EKA")
ATOMS=${ATOMS:-100}
RUNS=${RUNS:-10}

for tool in git nix ssh-keygen hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "benches/attest.sh: \`$tool\` is missing" >&2; exit 2; }
done

# shellcheck source=benches/sandbox.sh
source "$(dirname "$0")/sandbox.sh"
# A private chroot store, no substituters: the builds are local and offline.
export NIX_CONFIG=$'substituters =\nflake-registry =\nexperimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\nstore = '"$work/store"$'\n'
export SSH_AUTH_SOCK=/nonexistent

# The set: $ATOMS atoms, each entry point a derivation the chroot store builds without
# `/bin/sh` (`builtin:buildenv` over an empty manifest).
src=$work/src
registry=$work/registry.git
url=file://$registry
git init -q -b main "$src"
git init -q --bare "$registry"
{
  printf '[set]\npackages = [\n'
  for i in $(seq 1 "$ATOMS"); do printf '  "a%03d",\n' "$i"; done
  printf ']\n'
} >"$src/ekala.toml"
for i in $(seq 1 "$ATOMS"); do
  dir=$src/a$(printf %03d "$i")
  mkdir -p "$dir"
  printf '[package]\nlabel = "a%03d"\nversion = "1.0.0"\nentry = "default.nix"\n' "$i" >"$dir/atom.toml"
  cat >"$dir/default.nix" <<'EOF'
{ atom, ... }: derivation { name = "bench-${atom.label}"; system = "builtin"; builder = "builtin:buildenv"; derivations = ""; manifest = builtins.toFile "manifest" "[]"; }
EOF
done
git -C "$src" add -A
git -C "$src" commit -qm "$ATOMS atoms"
(cd "$src" && "$EKA" -q publish --all --remote "$url" >/dev/null)

# One builder key; one `eka attest` run builds and attests every atom.
ssh-keygen -q -t ed25519 -N '' -C builder -f "$work/builder"
start=$(date +%s%N)
(cd "$src" && "$EKA" -q attest --remote "$url" --key "$work/builder" >/dev/null)
echo "eka attest of $ATOMS atoms: $((($(date +%s%N) - start) / 1000000)) ms" >&2
tags=$(git -C "$registry" for-each-ref refs/eka/attest | wc -l)
echo "attestation refs on the mirror: $tags (expected $ATOMS)" >&2

# The consumer: one set, $ATOMS requirements, the builder trusted for the set.
project=$work/project
mkdir -p "$project"
{
  printf '[package]\nlabel = "app"\nversion = "0.1.0"\n[package.sets]\nreg = "%s"\n[deps.from.reg]\n' "$url"
  for i in $(seq 1 "$ATOMS"); do printf 'a%03d = "^1"\n' "$i"; done
} >"$project/atom.toml"
printf '[trust.reg]\nallowed_signers = ["builder@bench %s"]\n' "$(cat "$work/builder.pub")" >"$project/eka.toml"
(cd "$project" && "$EKA" -q resolve)
locked=$(grep -c '^\[\[atom\]\]' "$project/atom.lock" || true)
echo "locked atoms: $locked" >&2

# The peer: the same tags in a local repository, judged by stock git.
peer=$work/peer.git
git init -q --bare "$peer"
git -C "$peer" fetch -q "$url" 'refs/eka/attest/*:refs/tags/attest/*'
printf 'builder@bench namespaces="git" %s\n' "$(cat "$work/builder.pub")" >"$work/allowed_signers"
git -C "$peer" for-each-ref --format='%(refname)' refs/tags/attest >"$work/tags"
verify_tag="git -C $peer -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=$work/allowed_signers verify-tag"
cat >"$work/git-loop.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
while read -r tag; do $verify_tag "\$tag" 2>/dev/null; done <"$work/tags"
EOF
cat >"$work/git-batch.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
xargs $verify_tag <"$work/tags" 2>/dev/null
EOF
chmod +x "$work/git-loop.sh" "$work/git-batch.sh"

# Sanity, and the warm-up that fills eka's cache: every atom attested, every tag good.
(cd "$project" && "$EKA" --json verify --attestations --require-attested) >"$work/verify.json"
python3 - "$work/verify.json" "$ATOMS" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
attested = sum(1 for atom in value["atoms"] if atom["attestations"]["attested_by"])
print(f"eka: {attested} of {len(value['atoms'])} atoms attested, ok = {value['ok']}", file=sys.stderr)
assert value["ok"] and attested == int(sys.argv[2])
PY
"$work/git-loop.sh"
"$work/git-batch.sh"
echo "git verify-tag: $(wc -l <"$work/tags") tags good" >&2

hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$results/attest.json" \
  --command-name "eka verify --attestations --require-attested (warm)" \
  "cd $project && $EKA -q verify --attestations --require-attested" \
  --command-name "eka verify --attestations (warm, every configuration listed)" \
  "cd $project && $EKA -q verify --attestations" \
  --command-name "eka verify (warm, no attestations)" \
  "cd $project && $EKA -q verify" \
  --command-name "git verify-tag, one process per tag" \
  "$work/git-loop.sh" \
  --command-name "git verify-tag, all tags in one process" \
  "$work/git-batch.sh"
python3 "$benches/medians.py" "git verify-tag, one process per tag" "$results/attest.json"
