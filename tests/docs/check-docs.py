#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Docs and meta checks (git's check-docs, virsh self-test): every command in the table has a
# man page whose SYNOPSIS equals the table's synopsis lines, every long option of a verb
# appears in its page, every page carries the EXIT STATUS section that matches main.c's
# exit table, and the completion shims ask the binary. Prints TAP.
# usage: check-docs.py PBXCTL SOURCE_ROOT
import os
import re
import subprocess
import sys

pbxctl, root = sys.argv[1], sys.argv[2]
results = []


def check(ok, name, detail=''):
    results.append((ok, name, detail))


def run(*args):
    return subprocess.run([pbxctl, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env={**os.environ, 'NO_COLOR': '1'}).stdout.decode()


def candidates(*words):
    out = run('__complete', '--', *words).splitlines()
    return [line.split('\t')[0] for line in out[:-1]]


def expand(path):
    text = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('@include '):
                text.append(expand(os.path.join(os.path.dirname(path), line.split()[1])))
            else:
                text.append(line)
    return ''.join(text)


def section(text, name):
    m = re.search(r'^# ' + name + r'\n(.*?)(?=^# |\Z)', text, re.S | re.M)
    return m.group(1) if m else ''


def usage_lines(help_text):
    lines = []
    for line in help_text.splitlines():
        if line.startswith('usage: '):
            lines.append(line[len('usage: '):].strip())
        elif lines and line.startswith('       pbxctl '):
            lines.append(line.strip())
        elif lines:
            break
    return lines


nouns = candidates('')
check(len(nouns) >= 3, 'the table lists nouns', ' '.join(nouns))
man_dir = os.path.join(root, 'man')
with open(os.path.join(man_dir, 'meson.build')) as f:
    built_pages = f.read()
main_page = expand(os.path.join(man_dir, 'pbxctl.1.scd'))
for noun in nouns:
    if noun in ('help', 'version'):
        check('*' + noun + '*' in section(main_page, 'COMMANDS'), 'pbxctl(1) documents ' + noun)
        continue
    page_path = os.path.join(man_dir, 'pbxctl-%s.1.scd' % noun)
    exists = os.path.exists(page_path)
    check(exists, 'man page for %s' % noun)
    if not exists:
        continue
    check('pbxctl-%s.1.scd' % noun in built_pages, 'man/meson.build builds pbxctl-%s' % noun)
    check('*pbxctl-%s*(1)' % noun in main_page, 'pbxctl(1) refers to pbxctl-%s(1)' % noun)
    page = expand(page_path)
    synopsis = [l.strip() for l in section(page, 'SYNOPSIS').splitlines() if l.strip()]
    table_synopsis = []
    for verb in candidates(noun, ''):
        help_text = run('help', noun, verb)
        table_synopsis += usage_lines(help_text)
        cmds = section(page, 'COMMANDS')
        check(re.search(r'^\*' + re.escape(verb) + r'\*', cmds, re.M) is not None,
              'pbxctl-%s(1) COMMANDS has %s' % (noun, verb))
        for opt in re.findall(r'--([a-z][a-z0-9-]*)', help_text.split('options:')[-1]
                              if 'options:' in help_text else ''):
            check('--' + opt in section(page, 'OPTIONS'),
                  'pbxctl-%s(1) OPTIONS has --%s (%s)' % (noun, opt, verb))
    if not table_synopsis:
        # A command without verbs (import, export): its own usage and options.
        help_text = run('help', noun)
        table_synopsis = usage_lines(help_text)
        for opt in re.findall(r'--([a-z][a-z0-9-]*)', help_text.split('options:')[-1]
                              if 'options:' in help_text else ''):
            check('--' + opt in section(page, 'OPTIONS'),
                  'pbxctl-%s(1) OPTIONS has --%s' % (noun, opt))
    check(synopsis == table_synopsis, 'pbxctl-%s(1) SYNOPSIS equals the table' % noun,
          '\n  page:  %s\n  table: %s' % (synopsis, table_synopsis))
    for sec in ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'OUTPUT',
                'EXIT STATUS', 'ENVIRONMENT', 'EXAMPLES', 'SEE ALSO'):
        check(section(page, sec) != '', 'pbxctl-%s(1) has %s' % (noun, sec))

# EXIT STATUS matches the one table in main.c (plus 2 for usage and 130 for SIGINT).
with open(os.path.join(root, 'cmd', 'pbxctl', 'main.c')) as f:
    main_c = f.read()
table = main_c[main_c.index('exit_table[]'):]
table = table[:table.index('};')]
statuses = set(int(s) for s in re.findall(r'\{ PBX_\w+, (\d+) \}', table)) | {2, 130}
documented = set(int(s) for s in re.findall(r'^\*(\d+)\*$', section(main_page, 'EXIT STATUS'), re.M))
check(statuses == documented, 'EXIT STATUS matches the exit table',
      'table %s, page %s' % (sorted(statuses), sorted(documented)))

for shim in ('pbxctl.bash', '_pbxctl', 'pbxctl.fish'):
    with open(os.path.join(root, 'completions', shim)) as f:
        check('__complete' in f.read(), 'completions/%s asks pbxctl __complete' % shim)

# The systemd unit of the apply worker names a real command and the configured paths.
unit_path = os.path.join(root, 'examples', 'systemd', 'pbxctl-apply-worker.service')
with open(unit_path) as f:
    unit = {}
    for line in f:
        if '=' in line and not line.startswith('#'):
            k, v = line.rstrip('\n').split('=', 1)
            unit.setdefault(k, []).append(v)
execstart = unit.get('ExecStart', [''])[0].split()
check(execstart[:1] == ['/usr/bin/pbxctl'] and execstart[1:3] == ['apply', 'worker'],
      'pbxctl-apply-worker.service runs pbxctl apply worker', ' '.join(execstart))
helped = subprocess.run([pbxctl, *execstart[1:], '--help'], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
check(helped.returncode == 0 and b'apply worker' in helped.stdout,
      'pbxctl-apply-worker.service: its command and options exist')
with open(os.path.join(root, 'lib', 'core', 'config.c')) as f:
    config_c = f.read()
defaults = dict(re.findall(r'set_string\(&cfg->(\w+), "([^"]*)"\)', config_c))
want_rw = {defaults.get('config_dir'), defaults.get('voicemail_dir'), defaults.get('backup_dir')}
have_rw = set(' '.join(unit.get('ReadWritePaths', [])).split())
check(want_rw == have_rw, 'pbxctl-apply-worker.service ReadWritePaths are the default '
      'config, voicemail and backup dirs', 'want %s, have %s' % (sorted(want_rw), sorted(have_rw)))
key_dir = os.path.dirname(defaults.get('key_file', ''))
check(key_dir in ' '.join(unit.get('ReadOnlyPaths', [])).split(),
      'pbxctl-apply-worker.service can read the key file directory', key_dir)
with open(os.path.join(root, 'lib', 'include', 'pbx', 'config.h')) as f:
    default_conf = re.search(r'PBX_DEFAULT_CONFIG "([^"]+)"', f.read()).group(1)
check('PBXCTL_CONFIG=' + default_conf in unit.get('Environment', []),
      'pbxctl-apply-worker.service reads the default configuration file')
for key, value in (('NoNewPrivileges', 'yes'), ('ProtectSystem', 'strict'),
                   ('ProtectHome', 'yes'), ('PrivateTmp', 'yes'), ('User', 'pbxctl'),
                   ('RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6')):
    check(unit.get(key) == [value], 'pbxctl-apply-worker.service has %s=%s' % (key, value),
          str(unit.get(key)))

# Every environment variable the config reader takes is documented in ENVIRONMENT (env.scdi,
# included by every page) and next to its key in pbxctl.conf(5).
with open(os.path.join(root, 'lib', 'core', 'config.c'), encoding='utf-8') as f:
    config_vars = sorted(set(re.findall(r'"(PBXCTL_[A-Z0-9_]+)"', f.read())))
env_page = expand(os.path.join(man_dir, 'env.scdi'))
conf_page = expand(os.path.join(man_dir, 'pbxctl.conf.5.scd'))
check(len(config_vars) >= 20, 'config.c names its environment variables', ' '.join(config_vars))
for var in config_vars:
    check('*' + var + '*' in env_page, 'env.scdi (ENVIRONMENT) documents ' + var)
    check('*' + var + '*' in conf_page, 'pbxctl.conf(5) documents ' + var)

# ARCHITECTURE.md: every folder it names in backquotes exists, every folder of lib/ is named.
with open(os.path.join(root, 'ARCHITECTURE.md'), encoding='utf-8') as f:
    arch = f.read()
named = set(m for m in re.findall(r'`([a-z][a-z0-9_./-]*)`', arch)
            if '/' in m or m in ('migrations', 'bench', 'man', 'completions', 'examples', 'scripts'))
named_dirs = set()
for path in sorted(named):
    full = os.path.join(root, path)
    if os.path.splitext(path)[1] or os.path.isfile(full):
        check(os.path.exists(full), 'ARCHITECTURE.md names %s, which exists' % path)
        continue
    check(os.path.isdir(full), 'ARCHITECTURE.md names the folder %s, which exists' % path)
    named_dirs.add(path.rstrip('/'))
for d in sorted(os.listdir(os.path.join(root, 'lib'))):
    if os.path.isdir(os.path.join(root, 'lib', d)) and d != 'include':
        check('lib/' + d in named_dirs, 'ARCHITECTURE.md describes lib/%s' % d)
check('lib/include/pbx' in named_dirs, 'ARCHITECTURE.md describes lib/include/pbx')

print('1..%d' % len(results))
for i, (ok, name, detail) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
    if not ok and detail:
        for line in detail.splitlines():
            print('# ' + line)
sys.exit(0 if all(r[0] for r in results) else 1)
