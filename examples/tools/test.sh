#!/bin/sh
set -eu
docker run --rm --pull never --network none "$1" greet check | grep -q 'hello from check'
