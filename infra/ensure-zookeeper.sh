#!/usr/bin/env bash
# Makes sure a ZooKeeper server jar and Java are here, for the tests and the local pipeline: on Debian, as root, it
# installs the `zookeeper` package (Java and /usr/share/java/zookeeper.jar); elsewhere it says what to do.
set -euo pipefail
jar="${ZK_JAR:-/usr/share/java/zookeeper.jar}"
if [[ -n "${ZK_CONNECT:-}" ]] || { [[ -f "$jar" ]] && command -v java >/dev/null; }; then exit 0; fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "kube-zk-sync: installing ZooKeeper (Debian package zookeeper)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq zookeeper >/dev/null
  exit 0
fi
echo "kube-zk-sync: ZooKeeper is not installed: run 'sudo apt-get install -y zookeeper' (Debian), set ZK_JAR to a" \
  "server jar, or set ZK_CONNECT=host:port to use a running server" >&2
exit 1
