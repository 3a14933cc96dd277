#!/usr/bin/env bash
# Install what eka's tests need on a bare Debian machine. Idempotent: packages already
# present are not fetched again, and `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(git openssh-client openssh-server lighttpd nix-bin ca-certificates tar)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing packages: ${missing[*]} (run this script as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo-nextest >/dev/null 2>&1 && ! cargo nextest --version >/dev/null 2>&1; then
  echo "note: cargo-nextest not found; tests will run with cargo test" >&2
fi
