#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes an import file of N tenants x M users with D devices each, for bench.py and for
# trying pbxctl import by hand. Every tenant has the same (overlapping) extension range;
# every other user has an explicit extension, the rest are allocated by import. With
# --pins every user gets a voicemail PIN (argon2id: slow on purpose).
#
# With --emergency one global trunk and, per tenant, a default policy that sends the
# emergency numbers over it (apply refuses a tenant whose phones cannot call 911).
#
# usage: gen.py [--tenants N] [--users M] [--devices D] [--pins] [--emergency] [--prefix P]
import argparse
import sys


def weak(pin):
    """What pbxctl refuses: all one digit, or a run like 1234 or 4321."""
    d = [int(c) for c in pin]
    steps = {d[i + 1] - d[i] for i in range(len(d) - 1)}
    return len(set(d)) == 1 or steps in ({1}, {-1})


def main():
    ap = argparse.ArgumentParser(description='generate a pbxctl import file')
    ap.add_argument('--tenants', type=int, default=10)
    ap.add_argument('--users', type=int, default=1000, help='users per tenant')
    ap.add_argument('--devices', type=int, default=2, help='devices per user (0..10)')
    ap.add_argument('--pins', action='store_true', help='give every user a voicemail PIN')
    ap.add_argument('--emergency', action='store_true',
                    help='a global trunk and a default policy per tenant for 911/112/999')
    ap.add_argument('--prefix', default='bench', help='tenant slug prefix')
    a = ap.parse_args()
    if not 0 <= a.devices <= 10:
        ap.error('--devices must be 0 to 10')
    if a.users > 44000:
        ap.error('--users must be at most 44000 (the range holds 89000 extensions)')
    labels = ['desk', 'mobile', 'soft', 'lobby', 'car', 'home', 'tablet', 'watch', 'spare', 'lab']
    out = sys.stdout
    out.write('version: 1\n')
    if a.emergency:
        out.write('trunks:\n- name: carrier\n  host: sip.carrier.example\n'
                  '  auth: registration\n  username: bench-account\n'
                  '  secret: "bench-provider-secret"\n')
    out.write('tenants:\n')
    for t in range(a.tenants):
        slug = '%s-%d' % (a.prefix, t)
        out.write('- slug: %s\n  name: Bench %d\n  extensions: 10000-99999\n' % (slug, t))
        if a.emergency:
            out.write('  default_policy: emergency\n  policies:\n  - name: emergency\n'
                      '    rules:\n    - pattern: "^(911|112|999)$"\n      action: allow\n'
                      '      trunks: [carrier]\n')
        out.write('  users:\n')
        for u in range(a.users):
            out.write('  - username: user%d\n    name: User %d of %s\n' % (u, u, slug))
            out.write('    email: user%d@%s.example\n' % (u, slug))
            if u % 2 == 0:
                out.write('    extension: %d\n' % (50000 + u))
            if a.pins:
                # Not a run, not all the same digit, not the extension.
                n = u
                while True:
                    pin = '%06d' % (104729 * (n + 7) % 900000 + 100000)
                    if not weak(pin):
                        break
                    n += 1000003
                out.write('    voicemail: true\n    pin: "%s"\n' % pin)
            if a.devices:
                out.write('    devices:\n')
                for d in range(a.devices):
                    out.write('    - label: %s\n' % labels[d])
                    if d == 1:
                        out.write('      transport: tls\n      codecs: [opus, g722, ulaw]\n')


if __name__ == '__main__':
    main()
