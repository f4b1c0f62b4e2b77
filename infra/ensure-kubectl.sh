#!/usr/bin/env bash
# Makes sure kubectl is here, for the tests (they drive the simulated apiserver with it) and the demo's tour: on
# Debian, as root, it installs the `kubernetes-client` package; elsewhere it says what to do. KUBECTL names a
# kubectl that is not on the PATH.
set -euo pipefail
if [[ -n "${KUBECTL:-}" ]]; then
  if "$KUBECTL" version --client >/dev/null 2>&1; then exit 0; fi
  echo "kube-zk-sync: KUBECTL=$KUBECTL does not run ('$KUBECTL version --client' failed)" >&2
  exit 1
fi
if command -v kubectl >/dev/null; then exit 0; fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "kube-zk-sync: installing kubectl (Debian package kubernetes-client)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq kubernetes-client >/dev/null
  # Debian's client is 1.20: it drives the simulator, but its built-in kustomize predates the fields of the
  # deployment manifests, so the tests that render them ask for a kubectl from 1.21 on.
  echo "kube-zk-sync: note: $(kubectl version --client --short 2>/dev/null || echo 'this kubectl');" \
    "rendering infra/*/overlays needs kubectl 1.21 or later (kubectl kustomize)" >&2
  exit 0
fi
echo "kube-zk-sync: kubectl is not installed: run 'sudo apt-get install -y kubernetes-client' (Debian), install it" \
  "as https://kubernetes.io/docs/tasks/tools/ says, or set KUBECTL to its path" >&2
exit 1
