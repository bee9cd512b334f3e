#!/bin/sh
# Install inbox-ocr into its own virtual environment: the container image's install step
# (Dockerfile) and the systemd installation's (deploy/README.md), and what .ci/run runs to test it.
#
#   deploy/install.sh PREFIX [SOURCE]     PREFIX: the venv to create (e.g. /opt/inbox-ocr);
#                                         SOURCE: what pip installs (default: this checkout)
set -eu
prefix=${1:?usage: deploy/install.sh PREFIX [SOURCE]}
source=${2:-$(dirname "$0")/..}
python3 -m venv "$prefix"
"$prefix/bin/python" -m pip install --quiet --upgrade pip
"$prefix/bin/python" -m pip install --quiet "$source"
# the models are inside the installed package: nothing is downloaded at run time
"$prefix/bin/inbox-ocr" --version
