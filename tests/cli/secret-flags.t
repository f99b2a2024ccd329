A secret given on the command line (--pin, --secret) can be read by every local user in the
process list: pbxctl warns on stderr, and stays quiet for the -file forms and for "-".

  $ pbxctl -q db migrate >/dev/null; echo $?
  0

  $ pbxctl -q secrets init >/dev/null; echo $?
  0

  $ pbxctl -q tenant create cram-sflags --extensions 100-199 >/dev/null; echo $?
  0

  $ pbxctl -t cram-sflags user create sf-alice --pin 4817 -f username
  pbxctl: warning: user create: --pin on the command line can be read by other local users (ps, /proc); prefer --pin-file FILE
  username  sf-alice

  $ printf '9062\n' >pin.txt; pbxctl -t cram-sflags user create sf-bob --pin-file pin.txt -f username
  username  sf-bob

A PIN from stdin draws no warning about the command line (stderr kept apart: with no
Asterisk here, the new PIN's AstDB write is reported as pending for the next apply).

  $ printf '3719\n' | pbxctl -t cram-sflags user update sf-bob --pin - -o json -f username 2>err.txt; grep -c 'on the command line' err.txt
  {
    "changed": true,
    "action": "update",
    "user": {
      "username": "sf-bob"
    }
  }
  0
  [1]

A refused command still warns: the secret was on the command line all the same.

  $ pbxctl -t cram-sflags user update sf-bob --pin 5903 --pin-file pin.txt
  pbxctl: warning: user update: --pin on the command line can be read by other local users (ps, /proc); prefer --pin-file FILE
  pbxctl: user update: give only one of --pin, --pin-file and --no-pin
  [2]

  $ pbxctl trunk create sf-trunk --tenant cram-sflags --host sip.example.com --auth registration --username u1 --secret s3cr3t-pass -f name
  pbxctl: warning: trunk create: --secret on the command line can be read by other local users (ps, /proc); prefer --secret-file FILE
  name  sf-trunk

  $ printf 'another-pass\n' >secret.txt; pbxctl trunk update sf-trunk --secret-file secret.txt -f name
  name  sf-trunk

A secret file that cannot be read, or an empty secret, is refused before anything changes;
a PIN and a trunk secret are read by the same code (the first line, its line end dropped).

  $ pbxctl -t cram-sflags user update sf-bob --pin-file no-such-pin.txt
  pbxctl: user update: cannot read the pin from no-such-pin.txt
  [2]

  $ printf '\n' >empty.txt; pbxctl trunk update sf-trunk --secret-file empty.txt
  pbxctl: trunk update: the secret in empty.txt is empty
  [2]

  $ printf '\n' | pbxctl -t cram-sflags user update sf-bob --pin-file -
  pbxctl: user update: the pin is empty; use --no-pin to remove it
  [2]

  $ printf '8264\r\nignored\n' >pin2.txt; pbxctl -t cram-sflags user update sf-bob --pin-file pin2.txt -f username 2>err2.txt; grep -c 8264 err2.txt
  username  sf-bob
  0
  [1]
