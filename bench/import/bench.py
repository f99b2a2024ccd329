#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The pbxctl import benchmark (bench/README.md): in one run, on the same PostgreSQL,
#   1. import a generated file of N tenants x M users x D devices into an empty database
#      (time and peak resident memory of the pbxctl process),
#   2. import the unchanged file again (time),
#   3. load the very same rows (tenants, users, devices, as the import left them) into
#      another empty database with psql's \copy, in one transaction (time),
# and print the ratio import / \copy. With --pins K it then imports K users with voicemail
# PINs into a third database, to show what argon2id costs.
#
# It creates and drops its own databases (bench_import_*), so the role needs CREATEDB;
# scripts/services gives a superuser:
#   scripts/services start /tmp/bench-svc && . /tmp/bench-svc/env
#   bench/import/bench.py --pbxctl build/cmd/pbxctl/pbxctl
#   scripts/services stop /tmp/bench-svc
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def conninfo_with_db(conninfo, db):
    if re.search(r'\bdbname=\S+', conninfo):
        return re.sub(r'\bdbname=\S+', 'dbname=' + db, conninfo)
    return conninfo + ' dbname=' + db


def run_measured(argv, env, stdin=None):
    """Run @argv; return (seconds, peak RSS in MiB) of that process alone."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdin=stdin, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - t0
    err = p.stderr.read().decode(errors='replace')
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit('bench: %s failed:\n%s' % (' '.join(argv), err))
    return elapsed, ru.ru_maxrss / 1024.0


def psql(conninfo, *args, check=True):
    return subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', conninfo, *args],
                          check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


class Bench:
    def __init__(self, a):
        self.a = a
        self.admin = a.db or os.environ.get('PBXCTL_TEST_DATABASE_URL') or \
            os.environ.get('PBXCTL_DATABASE_URL')
        if not self.admin:
            sys.exit('bench: no database: give --db CONNINFO or source the env of '
                     'scripts/services')
        self.dir = tempfile.mkdtemp(prefix='pbxctl-bench-')
        self.env = {k: v for k, v in os.environ.items() if not k.startswith('PBXCTL_')}
        self.dbs = []

    def fresh_db(self, name):
        psql(self.admin, '-c', 'DROP DATABASE IF EXISTS %s' % name)
        psql(self.admin, '-c', 'CREATE DATABASE %s' % name)
        self.dbs.append(name)
        url = conninfo_with_db(self.admin, name)
        conf = os.path.join(self.dir, name + '.conf')
        key = os.path.join(self.dir, name + '.key')
        with open(conf, 'w') as f:
            f.write('database:\n  url: "%s"\nsecrets:\n  key_file: "%s"\n' % (url, key))
        self.pbxctl(conf, 'secrets', 'init')
        self.pbxctl(conf, 'db', 'migrate')
        return url, conf

    def pbxctl(self, conf, *args):
        subprocess.run([self.a.pbxctl, '-q', '-c', conf, *args], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def generate(self, name, *args):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            subprocess.run([sys.executable, os.path.join(HERE, 'gen.py'), *args], stdout=f,
                           check=True)
        return path

    def run(self):
        a = self.a
        users, devices = a.tenants * a.users, a.tenants * a.users * a.devices
        print('file: %d tenants x %d users x %d devices = %d users, %d devices'
              % (a.tenants, a.users, a.devices, users, devices))
        path = self.generate('bench.yaml', '--tenants', str(a.tenants), '--users', str(a.users),
                             '--devices', str(a.devices))
        print('      %.1f MiB of YAML' % (os.path.getsize(path) / 1048576.0))

        url, conf = self.fresh_db('bench_import_a')
        secrets = os.path.join(self.dir, 'secrets.yaml')
        t_import, rss = run_measured([a.pbxctl, '-q', '-c', conf, 'import', path,
                                      '--secrets-out', secrets], self.env)
        t_again, rss2 = run_measured([a.pbxctl, '-q', '-c', conf, 'import', path], self.env)

        # The same rows, as the import wrote them, loaded by psql's \copy.
        dumps = {}
        for table in ('tenants', 'users', 'devices'):
            dumps[table] = os.path.join(self.dir, table + '.copy')
            psql(url, '-c', "\\copy %s TO '%s'" % (table, dumps[table]))
        url_b, _ = self.fresh_db('bench_import_b')
        copy = ['psql', '-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', url_b]
        for table in ('tenants', 'users', 'devices'):
            copy += ['-c', "\\copy %s FROM '%s'" % (table, dumps[table])]
        t_copy, _ = run_measured(copy, self.env)
        counts = psql(url_b, '-Atc', 'SELECT (SELECT count(*) FROM users) || \' users, \' || '
                      '(SELECT count(*) FROM devices) || \' devices\'').stdout.strip()

        print('import into an empty database:  %7.3f s   peak RSS %.1f MiB' % (t_import, rss))
        print('psql \\copy of the same rows:    %7.3f s   (%s)' % (t_copy, counts))
        print('ratio import / \\copy:           %7.2f     (goal: at most 3)' % (t_import / t_copy))
        print('import of the unchanged file:   %7.3f s   peak RSS %.1f MiB (goal: under 2 s)'
              % (t_again, rss2))

        if a.pins:
            pinfile = self.generate('pins.yaml', '--tenants', '1', '--users', str(a.pins),
                                    '--devices', '0', '--pins', '--prefix', 'pins')
            _, conf_c = self.fresh_db('bench_import_c')
            t_pins, rss3 = run_measured([a.pbxctl, '-q', '-c', conf_c, 'import', pinfile],
                                        self.env)
            t_pins2, _ = run_measured([a.pbxctl, '-q', '-c', conf_c, 'import', pinfile],
                                      self.env)
            print('%d users with PINs:            %7.3f s   peak RSS %.1f MiB (%d cores)'
                  % (a.pins, t_pins, rss3, os.cpu_count() or 1))
            print('the same file again (verify):   %7.3f s' % t_pins2)

    def tenant_admin(self):
        """The same import of one tenant's users, as the owner and as its tenant admin."""
        a = self.a
        login = 'bench_tenant_admin'
        path = self.generate('one.yaml', '--tenants', '1', '--users', str(a.users),
                             '--devices', str(a.devices))
        empty = self.generate('empty.yaml', '--tenants', '1', '--users', '0')
        print('tenant admin: 1 tenant x %d users x %d devices, imported by the owner and by '
              'a tenant_admin (row-level security), each into a new database holding the '
              'tenant' % (a.users, a.devices))
        times = {}
        for who, db in (('owner', 'bench_import_o'), ('tenant_admin', 'bench_import_t')):
            url, conf = self.fresh_db(db)
            self.pbxctl(conf, 'import', empty)
            if who == 'tenant_admin':
                exists = psql(url, '-Atc', "SELECT 1 FROM pg_roles WHERE rolname = '%s'"
                              % login).stdout.strip()
                args = ['operator', 'add', login, '--role', 'tenant_admin', '--tenant',
                        'bench-0']
                self.pbxctl(conf, *(args + ([] if exists else ['--create-login'])))
                ta_conf = conf + '.ta'
                with open(conf) as f, open(ta_conf, 'w') as g:
                    g.write(f.read().replace(url, url + ' user=' + login))
                conf = ta_conf
            times[who], _ = run_measured([a.pbxctl, '-q', '-c', conf, 'import', path,
                                          '--secrets-out', os.path.join(self.dir, who + '.sec')],
                                         self.env)
            print('import as %-13s %7.3f s' % (who + ':', times[who]))
        print('tenant_admin / owner:           %7.2f     (goal: at most 1.20)'
              % (times['tenant_admin'] / times['owner']))

    def cleanup(self):
        if not self.a.keep:
            for name in self.dbs:
                psql(self.admin, '-c', 'DROP DATABASE IF EXISTS %s' % name, check=False)
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print('kept: %s and databases %s' % (self.dir, ', '.join(self.dbs)))


def main():
    ap = argparse.ArgumentParser(description='pbxctl import benchmark')
    ap.add_argument('--pbxctl', default=os.path.join(HERE, '..', '..', 'build', 'cmd', 'pbxctl',
                                                     'pbxctl'))
    ap.add_argument('--db', help='libpq conninfo of a role that may CREATE DATABASE')
    ap.add_argument('--tenants', type=int, default=10)
    ap.add_argument('--users', type=int, default=1000, help='per tenant')
    ap.add_argument('--devices', type=int, default=2, help='per user')
    ap.add_argument('--pins', type=int, default=0, help='also import this many users with PINs')
    ap.add_argument('--keep', action='store_true', help='keep the databases and files')
    ap.add_argument('--tenant-admin', action='store_true',
                    help='instead: one tenant of --users users, imported by the owner and by '
                    'a tenant_admin under row-level security')
    a = ap.parse_args()
    if not os.access(a.pbxctl, os.X_OK):
        sys.exit('bench: %s is not an executable; give --pbxctl' % a.pbxctl)
    b = Bench(a)
    try:
        if a.tenant_admin:
            b.tenant_admin()
        else:
            b.run()
    finally:
        b.cleanup()


if __name__ == '__main__':
    main()
