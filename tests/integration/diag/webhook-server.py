#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A webhook receiver for the diag tests: answers POSTs on 127.0.0.1 (ephemeral port, written
# to PORT_FILE), logs each request as one JSON line (headers, body, status it answered) to
# LOG, and answers 500 to the first FAIL requests, 204 afterwards.
# usage: webhook-server.py PORT_FILE LOG FAIL SECRET
# sig_ok in the log: X-Pbxctl-Signature is sha256=<hex HMAC-SHA256 of the body under SECRET>.
import hashlib
import hmac
import http.server
import json
import os
import sys

port_file, log, fail, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        seen += 1
        status = 500 if seen <= fail else 204
        want = 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        sig_ok = hmac.compare_digest(want, self.headers.get('X-Pbxctl-Signature', ''))
        with open(log, 'a') as f:
            f.write(json.dumps({'status': status, 'event': self.headers.get('X-Pbxctl-Event'),
                                'signature': self.headers.get('X-Pbxctl-Signature'),
                                'sig_ok': sig_ok, 'body': json.loads(body)}) + '\n')
        self.send_response(status)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
with open(port_file + '.tmp', 'w') as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + '.tmp', port_file)
server.serve_forever()
