#!/bin/sh
# Verification: run with the image reference as the only argument.
set -eu
docker run --rm --pull never --network none "$1" cat /etc/imagetools/base
