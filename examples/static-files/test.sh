#!/bin/sh
set -eu
docker run --rm --pull never --network none "$1" cat /srv/index.html | grep -q 'static files'
