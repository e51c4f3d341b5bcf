#!/bin/sh
echo "hello from ${1:-tools}"
