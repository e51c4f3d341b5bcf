#!/bin/sh
# Verification: run with the image reference as the only argument.
set -eu
docker run --rm --network none "$1" cat /etc/imagetools/base
