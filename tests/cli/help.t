Help is built from the command table; asked-for help goes to stdout with status 0.

  $ pbxctl --version
  pbxctl 0.1.0

  $ pbxctl help tenant | head -3
  usage: pbxctl tenant VERB [ARGS]
  
  manage tenants and their extension ranges

  $ pbxctl tenant --help | tail -1
  See pbxctl-tenant(1).

  $ pbxctl help tenant create | head -2
  usage: pbxctl tenant create SLUG --extensions MIN-MAX [--name NAME] [--default-inbound DEST]
  

  $ diff <(pbxctl help tenant create) <(pbxctl tenant create --help) && echo same
  same

Usage errors: one line, the synopsis, status 2, with "did you mean".

  $ pbxctl tenat list
  pbxctl: 'tenat' is not a pbxctl command; did you mean 'tenant'?
  [2]

  $ pbxctl tenant lst
  pbxctl: tenant: 'lst' is not a tenant verb; did you mean 'list'?
  usage: pbxctl tenant VERB [ARGS]
  [2]

  $ pbxctl tenant create acme --extension 1000-1999
  pbxctl: tenant create: unknown option '--extension'; did you mean '--extensions'?
  usage: pbxctl tenant create SLUG --extensions MIN-MAX [--name NAME] [--default-inbound DEST]
  [2]

  $ pbxctl tenant create
  pbxctl: tenant create: missing argument
  usage: pbxctl tenant create SLUG --extensions MIN-MAX [--name NAME] [--default-inbound DEST]
  [2]

  $ pbxctl -o xml tenant list
  pbxctl: --output must be table, json, yaml or tsv, not 'xml'
  [2]

Completion answers from the table.

  $ pbxctl __complete -- te
  tenant	manage tenants and their extension ranges
  :nofiles

  $ pbxctl __complete -- '' | grep -c __complete
  0
  [1]

  $ pbxctl __complete -- tenant cr
  create	create a tenant with an extension range
  :nofiles

  $ pbxctl __complete -- -c ''
  :files

A verb's keywords come from its synopsis; after one of them, what the synopsis says.

  $ pbxctl __complete -- me voicemail ''
  pin
  greeting
  :nofiles

  $ pbxctl __complete -- me voicemail greeting ''
  :files

  $ pbxctl __complete -- me voicemail pin --p
  --pin-file	pin: the current PIN on the first line of FILE, the new one on the second (- for standard input)
  :nofiles

  $ bash -c 'source "$SRCDIR/completions/pbxctl.bash"; COMP_WORDS=(pbxctl me forward c); COMP_CWORD=3; _pbxctl; echo "${COMPREPLY[@]}"'
  clear

  $ pbxctl __complete -- -o j
  json
  :nofiles

The bash shim asks the binary (no bash-completion package needed for this check).

  $ bash -c 'source "$SRCDIR/completions/pbxctl.bash"; COMP_WORDS=(pbxctl tenant cr); COMP_CWORD=2; _pbxctl; echo "${COMPREPLY[@]}"'
  create

  $ bash -c 'source "$SRCDIR/completions/pbxctl.bash"; COMP_WORDS=(pbxctl -o y); COMP_CWORD=2; _pbxctl; echo "${COMPREPLY[@]}"'
  yaml
