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
step deskctl sandbox seed --random-seed 7 --messy   # 1 contact in 7 shares an email
step deskctl sandbox info
step deskctl sandbox crm list Contacts --limit 5
step deskctl sandbox desk list tickets --limit 5

# Setup: link a portal, invite users with roles, choose related lists
step deskctl portal list
step deskctl portal connect acme-support
step deskctl users invite sam.sales@acme.example lena@acme.example --role agent
step deskctl users set-role lena@acme.example --role light-agent
step deskctl sandbox accept sam.sales@acme.example
step deskctl users list
step deskctl related-list enable Partners
step deskctl related-list list
step deskctl signals configure --disable new-rating
step deskctl integration status
step deskctl sandbox outbox
step deskctl audit --limit 5

# Sync: one run links, creates and reports the seeded duplicates; fix them; rerun
step deskctl sync configure --mode bidirectional --conflict newest
step deskctl sync run --dry-run --module Accounts
step deskctl sync run || echo "(exit $?: some records need a human; see below)"
step deskctl sync errors
for id in $(deskctl -o json sync errors | python3 -c 'import json,sys; print(" ".join(e["side"]+":"+e["record_id"] for e in json.load(sys.stdin)))'); do
  side=${id%%:*}; rid=${id#*:}
  if [ "$side" = crm ]; then deskctl -q sandbox crm delete Contacts "$rid" >/dev/null
  else deskctl -q sandbox desk delete contacts "$rid" >/dev/null; fi
done
step deskctl sync run
step deskctl sync status

# Tickets, a deal link, stats and signals
TICKET=$(deskctl -o json ticket list --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
DEAL=$(deskctl -o json sandbox crm list Deals --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
step deskctl ticket list --view all --sort priority --limit 5
step deskctl ticket comment "$TICKET" --text "Customer called; looking into it." --private
step deskctl ticket link-deal "$TICKET" --deal "$DEAL"
step deskctl ticket list --sort deal-amount --limit 3
step deskctl ticket show "$TICKET"
step deskctl sandbox customer reply "$TICKET" --text "Any update?"
step deskctl stats
step deskctl signals list
step deskctl signals watch

# Declarative setup: the running integration against the example file
step deskctl plan -f examples/integration.yaml
