#!/bin/sh
set -eu
docker run --rm --network none "$1" cat /srv/index.html | grep -q 'static files'
