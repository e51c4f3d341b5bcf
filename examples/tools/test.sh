#!/bin/sh
set -eu
docker run --rm --network none "$1" greet check | grep -q 'hello from check'
