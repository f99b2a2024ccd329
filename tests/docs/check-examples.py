#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The example Asterisk configuration (examples/asterisk/) against what pbxctl generates and
# sends: the transports rows refer to, the include paths of the default config and
# voicemail dirs, every realtime table pbxctl writes mapped in sorcery.conf and
# extconfig.conf to a connection res_odbc.conf defines, no context that collides with a
# generated one, and AMI permissions covering every action lib/ sends. Prints TAP.
# usage: check-examples.py SOURCE_ROOT
import glob
import os
import re
import sys

root = sys.argv[1]
ex = os.path.join(root, 'examples', 'asterisk')
results = []


def check(ok, name, detail=''):
    results.append((ok, name, detail))


def read(*parts):
    with open(os.path.join(*parts), encoding='utf-8') as f:
        return f.read()


def sections(text):
    """{section: {key: value}} of an Asterisk .conf (';' comments, '=' or '=>')."""
    out, cur = {}, None
    for line in text.splitlines():
        line = line.split(';', 1)[0].strip()
        m = re.match(r'^\[([^\]]+)\]', line)
        if m:
            cur = out.setdefault(m.group(1), {})
        elif cur is not None and '=' in line:
            k, v = line.split('=', 1)
            cur[k.strip()] = v.lstrip('>').strip()
    return out


lib_text = ''
for path in glob.glob(os.path.join(root, 'lib', '**', '*.[ch]'), recursive=True):
    lib_text += read(path)

# transports: every "transport-x" the generators write exists, as type=transport
pjsip = sections(read(ex, 'pjsip.conf'))
for t in sorted(set(re.findall(r'"(transport-[a-z]+)"', lib_text))):
    check(pjsip.get(t, {}).get('type') == 'transport', 'pjsip.conf defines ' + t)
check(pjsip.get('global', {}).get('endpoint_identifier_order') == 'auth_username,username,ip',
      'pjsip.conf [global] endpoint_identifier_order=auth_username,username,ip')

# include lines follow the default directories of lib/core/config.c
config_c = read(root, 'lib', 'core', 'config.c')
for conf, key in (('extensions.conf', 'config_dir'), ('voicemail.conf', 'voicemail_dir')):
    m = re.search(r'set_string\(&cfg->%s, "/etc/asterisk/([^"]+)"\)' % key, config_c)
    check(m is not None, 'config.c has a default ' + key)
    if m:
        want = '#tryinclude "%s/*.conf"' % m.group(1)
        check(want in read(ex, conf), '%s includes %s' % (conf, m.group(1)), want)

# generated contexts are never defined by hand
ext = sections(read(ex, 'extensions.conf'))
inbound = re.search(r'#define PBX_DP_INBOUND_CONTEXT "([^"]+)"', lib_text).group(1)
meta = re.search(r'#define PBX_DP_META_PREFIX "([^"]+)"', lib_text).group(1)
bad = [c for c in ext if c == inbound or c.startswith(meta) or c.endswith('-internal')]
check(not bad, 'extensions.conf defines no generated context', ' '.join(bad))
check(inbound in read(ex, 'extensions.conf'), 'extensions.conf names the inbound router ' + inbound)

# every table pbxctl writes is realtime in sorcery.conf and mapped in extconfig.conf
tables = sorted(set(re.findall(r'RT_TABLE_ENTRY\((ps_[a-z_]+)', lib_text)))
check(len(tables) >= 3, 'lib/realtime lists its tables', ' '.join(tables))
sorcery = read(ex, 'sorcery.conf')
extconfig = sections(read(ex, 'extconfig.conf')).get('settings', {})
odbc = sections(read(ex, 'res_odbc.conf'))
for t in tables:
    check(re.search(r'=\s*realtime,%s\b' % t, sorcery) is not None, 'sorcery.conf maps ' + t)
    v = extconfig.get(t, '')
    check(v.startswith('odbc,') and v.split(',')[1] in odbc,
          'extconfig.conf maps %s to a res_odbc.conf connection' % t, v)

# AMI: the classes Asterisk's manager requires for each action pbxctl sends
needs = {
    'Command': 'command', 'Reload': 'system', 'ShowDialPlan': 'config',
    'PJSIPShowContacts': 'system', 'PJSIPShowRegistrationsOutbound': 'system',
    'PJSIPShowEndpoint': 'system', 'PJSIPShowEndpoints': 'system',
    'DBPut': 'system', 'DBGet': 'system', 'DBDel': 'system', 'DBDelTree': 'system',
    'DBGetTree': 'system', 'UserEvent': 'user', 'Ping': None,
}
manager = sections(read(ex, 'manager.conf'))
user = manager.get('pbxctl', {})
write = set(user.get('write', '').replace(' ', '').split(','))
read_ = set(user.get('read', '').replace(' ', '').split(','))
sent = sorted(set(re.findall(r'pbx_ami_action(?:_raw)?\([a-z]+, "([A-Za-z]+)"', lib_text)))
check(len(sent) >= 5, 'lib sends AMI actions', ' '.join(sent))
for action in sent:
    check(action in needs, 'the check knows what %s needs' % action)
    if needs.get(action):
        check(needs[action] in write, 'manager.conf write= allows %s (%s)' % (action, needs[action]))
for cls in ('system', 'call', 'user'):
    check(cls in read_, 'manager.conf read= receives %s events (diag watch)' % cls)
check(manager.get('general', {}).get('bindaddr') == '127.0.0.1', 'AMI listens on loopback')

print('TAP version 13')
print('1..%d' % len(results))
for i, (ok, name, detail) in enumerate(results, 1):
    print('%s %d - %s%s' % ('ok' if ok else 'not ok', i, name, (' # ' + detail) if detail and not ok else ''))
sys.exit(0 if all(r[0] for r in results) else 1)
