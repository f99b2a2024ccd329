#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that an executable carries the build hardening meson.build asks for, reading its
ELF headers with readelf: PIE (type DYN with the PIE flag), full RELRO (a GNU_RELRO segment
and BIND_NOW), the stack protector (__stack_chk_fail referenced) and, when the build uses
it, _FORTIFY_SOURCE (some __*_chk function referenced). Output is TAP.

Usage: check-elf.py EXECUTABLE fortify|no-fortify
"""
import subprocess
import sys


def readelf(args, path):
    return subprocess.run(['readelf', '-W', *args, path], check=True,
                          capture_output=True, text=True).stdout


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ('fortify', 'no-fortify'):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    exe, fortify = sys.argv[1], sys.argv[2] == 'fortify'
    header = readelf(['-h'], exe)
    dynamic = readelf(['-d'], exe)
    segments = readelf(['-l'], exe)
    symbols = readelf(['--dyn-syms'], exe)
    # "  1: 0000000000000000  0 FUNC GLOBAL DEFAULT UND __printf_chk@GLIBC_2.3.4 (2)"
    names = {line.split()[7].split('@')[0] for line in symbols.splitlines()
             if len(line.split()) > 7 and line.split()[0].rstrip(':').isdigit()}

    checks = [
        ('PIE: ELF type DYN', 'DYN (' in header),
        ('PIE: DT_FLAGS_1 has PIE', any('FLAGS_1' in l and 'PIE' in l
                                        for l in dynamic.splitlines())),
        ('RELRO: a GNU_RELRO segment', 'GNU_RELRO' in segments),
        ('RELRO: BIND_NOW (full RELRO)', any(('(FLAGS)' in l and 'BIND_NOW' in l) or
                                             ('FLAGS_1' in l and 'NOW' in l.split(':', 1)[-1])
                                             for l in dynamic.splitlines())),
        ('stack protector: __stack_chk_fail referenced', '__stack_chk_fail' in names),
    ]
    if fortify:
        chk = sorted(n for n in names if n.startswith('__') and n.endswith('_chk')
                     and n != '__stack_chk_fail')
        checks.append(('_FORTIFY_SOURCE: __*_chk functions referenced (%s)' %
                       ', '.join(chk[:4]), bool(chk)))
    print('1..%d' % len(checks))
    failed = 0
    for i, (name, ok) in enumerate(checks, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
        failed += not ok
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
