#!/bin/sh
set -eu
docker run --rm --pull never --network none "$1" cat /etc/imagetools/runtime | grep -q 'from runtime'
