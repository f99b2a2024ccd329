#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs cram-style transcripts: "  $ command" lines, then the expected combined stdout and
# stderr, indented by two spaces, then "  [N]" when the exit status is not 0. Lines that
# start without two spaces are comments. A line ending in " (re)" is a regular expression.
# usage: run-transcripts.py PBXCTL FILE.t...   (prints TAP)
import os
import re
import subprocess
import sys
import tempfile


def parse(path):
    cases = []
    cur = None
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if line.startswith('  $ '):
                cur = {'cmd': line[4:], 'out': [], 'line': n}
                cases.append(cur)
            elif line.startswith('  ') and cur is not None:
                cur['out'].append(line[2:])
            elif line.strip() == '' and cur is not None:
                cur = None
    return cases


def matches(expected, actual):
    if len(expected) != len(actual):
        return False
    for e, a in zip(expected, actual):
        if e.endswith(' (re)'):
            if not re.fullmatch(e[:-5], a):
                return False
        elif e != a:
            return False
    return True


def main():
    pbxctl = os.path.abspath(sys.argv[1])
    srcdir = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
    files = sys.argv[2:]
    env = dict(os.environ)
    for k in ('PBXCTL_CONFIG', 'PBXCTL_TENANT'):
        env.pop(k, None)
    env.update({'SRCDIR': srcdir, 'TERM': 'dumb', 'NO_COLOR': '1', 'LC_ALL': 'C', 'TZ': 'UTC',
                'PATH': os.path.dirname(pbxctl) + ':' + env.get('PATH', '')})
    # The private services of the test run, under pbxctl's own variable names.
    for src, dst in (('PBXCTL_TEST_DATABASE_URL', 'PBXCTL_DATABASE_URL'),
                     ('PBXCTL_TEST_MARIADB_SOCKET', 'PBXCTL_REALTIME_SOCKET'),
                     ('PBXCTL_TEST_MARIADB_USER', 'PBXCTL_REALTIME_USER'),
                     ('PBXCTL_TEST_MARIADB_PASSWORD', 'PBXCTL_REALTIME_PASSWORD'),
                     ('PBXCTL_TEST_MARIADB_DATABASE', 'PBXCTL_REALTIME_DATABASE')):
        if src in env:
            env[dst] = env[src]
    total = sum(len(parse(f)) for f in files)
    print('1..%d' % total)
    i = 0
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        env['TESTDIR'] = tmp
        env['PBXCTL_KEY_FILE'] = os.path.join(tmp, 'pbxctl.key')
        env['PBXCTL_ASTERISK_CONFIG_DIR'] = os.path.join(tmp, 'dialplan')
        env['PBXCTL_ASTERISK_BACKUP_DIR'] = os.path.join(tmp, 'backup')
        for f in files:
            for case in parse(f):
                i += 1
                p = subprocess.run(['bash', '-c', case['cmd'] + ' 2>&1'], cwd=tmp, env=env,
                                   stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
                out = p.stdout.decode('utf-8', 'replace').split('\n')
                if out and out[-1] == '':
                    out.pop()
                if p.returncode != 0:
                    out.append('[%d]' % p.returncode)
                name = '%s:%d %s' % (os.path.basename(f), case['line'], case['cmd'])
                if matches(case['out'], out):
                    print('ok %d - %s' % (i, name))
                else:
                    failed += 1
                    print('not ok %d - %s' % (i, name))
                    print('  # expected:')
                    for line in case['out']:
                        print('  #   ' + line)
                    print('  # got:')
                    for line in out:
                        print('  #   ' + line)
    return 1 if failed else 0


sys.exit(main())
