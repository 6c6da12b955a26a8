#!/usr/bin/env bash
# Makes sure the real AWS clients and peers the tests use are here, installing
# what is missing (idempotently), then prints the environment the tests read:
#   SNAPLAB_AWS_CLI  the aws CLI
#   SNAPLAB_PYTHON   a Python with boto3 and moto (the tests run `python -m moto.server`)
# The machine image ships all three in its system Python; a venv is the fallback.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-tools
log() { echo "tools: $*" >&2; }

python=python3
if ! command -v "$python" >/dev/null 2>&1; then
  log "python3 is missing; installing it with apt"
  apt-get update -qq >&2 && apt-get install -y -qq python3 python3-venv >&2
fi

if "$python" -c 'import boto3, moto.server, flask' >/dev/null 2>&1 && command -v aws >/dev/null 2>&1 && aws --version >/dev/null 2>&1; then
  echo "export SNAPLAB_PYTHON=$(command -v "$python")"
  echo "export SNAPLAB_AWS_CLI=$(command -v aws)"
  exit 0
fi

if [ ! -x "$venv/bin/aws" ] || ! "$venv/bin/python" -c 'import boto3, moto.server, flask' >/dev/null 2>&1; then
  log "installing the aws CLI, boto3 and moto into $venv"
  "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install -q awscli boto3 'moto[server]==5.2.*' >&2
fi
echo "export SNAPLAB_PYTHON=$PWD/$venv/bin/python"
echo "export SNAPLAB_AWS_CLI=$PWD/$venv/bin/aws"
