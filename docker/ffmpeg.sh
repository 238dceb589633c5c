#!/bin/sh
# ffmpeg in the image: the static build that the imageio-ffmpeg wheel ships, run without the
# system's iconv modules. Its static glibc crashes (SIGSEGV) when it loads Debian's
# /usr/lib/x86_64-linux-gnu/gconv modules, which ffmpeg's MPEG-TS reader makes it do for
# every transport stream, i.e. for every HLS download. Without them it only loses the
# conversion of a few legacy broadcast character sets in stream titles.
GCONV_PATH=/nonexistent
export GCONV_PATH
exec /opt/showkeeper/lib/ffmpeg "$@"
