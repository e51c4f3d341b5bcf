#!/bin/sh
set -eu
docker run --rm --pull never --network none "$1" cat /srv/www/index.html | grep -q 'hello from web'
