Tenants against the private PostgreSQL of the test run; every exit status a user can meet.

Quiet: a migration that succeeds prints nothing at all.

  $ pbxctl -q db migrate; echo $?
  0

  $ pbxctl db migrate -f name | head -n 1
  NAME

  $ pbxctl tenant create cram-acme --name "Acme Corp" --extensions 1000-1999 -f slug,name,extensions,ext_next
  slug        cram-acme
  name        Acme Corp
  extensions  1000-1999
  ext_next    1000

  $ pbxctl -o json tenant create cram-beta --extensions 200-299 -f slug,extensions
  {
    "changed": true,
    "action": "create",
    "tenant": {
      "slug": "cram-beta",
      "extensions": "200-299"
    }
  }

  $ pbxctl -o tsv tenant list -f slug,status --no-headers | grep cram-
  cram-acme	active
  cram-beta	active

  $ pbxctl -o tsv tenant list -f slug,name | grep -E '^(slug|cram-acme)'
  slug	name
  cram-acme	Acme Corp

  $ pbxctl -o yaml tenant show cram-acme -f slug,ext_next
  ---
  slug: cram-acme
  ext_next: 1000

Invalid input: exit 3, one line naming object and field; nothing changed.

  $ pbxctl tenant create cram-bad --extensions 1999-1000
  pbxctl: tenant cram-bad: extension range 1999-1000: the first extension must be lower than the last
  [3]

  $ pbxctl -o json tenant create Bad --extensions 1000-1999
  {"error":{"code":"invalid","exit":3,"object":"tenant","field":"slug","message":"slug \"Bad\" must match [a-z][a-z0-9-]{1,23} and not be a reserved name (general, globals, zonemessages, default, pbxctl...)"}}
  [3]

  $ pbxctl tenant show cram-bad
  pbxctl: tenant cram-bad does not exist
  [4]

  $ pbxctl tenant create cram-acme --extensions 1000-1999
  pbxctl: tenant cram-acme: a tenant with this slug already exists
  [5]

  $ pbxctl -o json tenant update cram-acme --name "Acme Corp" -f slug
  {
    "changed": false,
    "action": "update",
    "tenant": {
      "slug": "cram-acme"
    }
  }

  $ pbxctl tenant list -f nosuchkey
  pbxctl: --fields: 'nosuchkey' is not a key of tenant; see the OUTPUT section of its man page
  [3]

  $ pbxctl -o json tenant suspend cram-beta -f status
  {
    "changed": true,
    "action": "suspend",
    "tenant": {
      "status": "suspended"
    }
  }

  $ pbxctl tenant delete cram-beta && pbxctl tenant show cram-beta
  pbxctl: tenant cram-beta does not exist
  [4]

  $ pbxctl audit list --tenant cram-beta -f action,entity --no-headers
  delete   tenant
  suspend  tenant
  create   tenant

  $ pbxctl audit verify -f status
  status  ok

A backend that cannot be reached: exit 7, naming the host and never a password.

  $ PBXCTL_DATABASE_URL="host=/nonexistent port=1 password=hunter2" pbxctl tenant list
  pbxctl: postgresql at /nonexistent:1 is unreachable
  [7]

  $ printf 'ami:\n  prot: 1\n' > bad.conf; pbxctl -c bad.conf tenant list
  pbxctl: bad.conf:2:3: ami.prot: unknown key
  [3]
