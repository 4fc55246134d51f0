#!/usr/bin/env bash
# A scripted tour of deskctl on the local backend, in a throwaway home (.demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
export DESKCTL_HOME="$PWD/.demo"
export DESKCTL_CONFIG_HOME="$PWD/.demo/config"
export PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring
rm -rf .demo

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step deskctl --version
step deskctl sandbox seed --random-seed 7
step deskctl sandbox info
step deskctl sandbox crm list Contacts --limit 5
step deskctl sandbox desk list tickets --limit 5
