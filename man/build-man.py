#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Expands "@include FILE" lines of an scdoc source (shared EXIT STATUS and ENVIRONMENT
# sections), then runs scdoc on it. usage: build-man.py SCDOC INPUT OUTPUT
import os
import subprocess
import sys


def expand(path: str) -> str:
    out = []
    base = os.path.dirname(path)
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('@include '):
                out.append(expand(os.path.join(base, line.split(None, 1)[1].strip())))
            else:
                out.append(line)
    return ''.join(out)


scdoc, src, dst = sys.argv[1:4]
text = expand(src)
with open(dst, 'wb') as f:
    subprocess.run([scdoc], input=text.encode(), stdout=f, check=True)
