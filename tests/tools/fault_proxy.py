#!/usr/bin/env python3
# fault_proxy.py - TEST CODE: a loopback HTTP proxy for sluice's tests that
# puts faults in front of a real server. Not a server of its own: without
# a fault every request is forwarded as is to UPSTREAM.
#   fault_proxy.py PORTFILE UPSTREAM [CERT KEY]
# (FAULT_PROXY_PORT=N in the environment: listen on port N)
# (UPSTREAM: http://127.0.0.1:PORT; with CERT and KEY, PEM files, it
# listens with TLS, for the client's certificate checks)
# A first path segment names a fault, taken off before forwarding:
#   /f429-N-KEY/...    the first N requests of KEY get 429, Retry-After: 1
#   /f503-N-KEY/...    the first N get 503 (no Retry-After)
#   /freset-N-KEY/...  the first N get their connection reset, no response
#   /fslow-S-KEY/...   every request waits S seconds before it is forwarded
#   /fdate-N-KEY/...   like f429 with Retry-After as an HTTP date (+2 s)
#   /fbearer-0-TOKEN/... 401 unless the request says "Authorization: Bearer
#                      TOKEN" (the Authorization header is not forwarded)
#   /ftrunc-N-KEY/...  the first N replies of KEY with a body of more than
#                      100 bytes send half of it (Content-Length says all),
#                      then the connection is closed
#   /f401at-N-KEY/...  request number N (only) gets 401, as when a token
#                      expires in the middle of a run
# Requests are forwarded with their Content-Type, Accept, User-Agent,
# Prefer, Accept-Encoding and (but for fbearer) Authorization, and with
# X-Forwarded-Prefix: the proxy's URL and the fault segment, so a server
# that hands out URLs (the Bulk Data harness) routes them through it too.
# Replies keep Content-Type, Content-Encoding, Content-Location,
# Retry-After, X-Progress and Expires.
# Under a fault segment, the upstream's own URLs in a response (the next
# links of a search page) are rewritten to this proxy and that segment, so
# that following them goes through the same fault.
# GET /count/KEY answers how many requests KEY has seen; GET /peak/KEY how
# many requests of a slow KEY were in flight at once, at most.
import http.server, socket, socketserver, struct, sys, threading, time
import urllib.request, urllib.error
from email.utils import formatdate

UP = sys.argv[2]
seen = {}
inflight, peak = {}, {}
lock = threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a):
        pass
    def reply(self, code, body=b'', headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def handle_any(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else None
        path = self.path
        if path.startswith('/peak/'):
            with lock:
                c = peak.get(path[6:], 0)
            return self.reply(200, str(c).encode())
        if path.startswith('/count/'):
            with lock:
                c = seen.get(path[7:], 0)
            return self.reply(200, str(c).encode())
        seg, _, rest = path[1:].partition('/')
        self.fault = ('', '0', '')
        self.prefix = '%s://%s' % (SCHEME, self.headers.get('Host', '127.0.0.1'))
        if seg.startswith('f') and seg.count('-') >= 2:
            kind, num, key = seg[1:].split('-', 2)
            self.fault = (kind, num, key)
            self.prefix += '/' + seg
            with lock:
                seen[key] = seen.get(key, 0) + 1
                c = seen[key]
            path = '/' + rest
            if kind == 'bearer':
                if self.headers.get('Authorization', '') != 'Bearer ' + key:
                    return self.reply(401, b'{"resourceType":"OperationOutcome"}')
            elif kind == 'slow':
                with lock:
                    inflight[key] = inflight.get(key, 0) + 1
                    peak[key] = max(peak.get(key, 0), inflight[key])
                try:
                    time.sleep(float(num))
                    return self.forward(path, body)
                finally:
                    with lock:
                        inflight[key] -= 1
            elif kind == 'trunc':
                pass
            elif kind == '401at':
                if c == int(num):
                    return self.reply(401, b'', [('WWW-Authenticate', 'Bearer error="invalid_token"')])
            elif c <= int(num):
                if kind == '429':
                    return self.reply(429, b'{"busy":1}', [('Retry-After', '1')])
                if kind == 'date':
                    return self.reply(429, b'', [('Retry-After', formatdate(time.time() + 2, usegmt=True))])
                if kind == '503':
                    return self.reply(503, b'PHI-LIKE-BODY Smith')
                if kind == 'reset':
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack('ii', 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
        self.forward(path, body)
    def forward(self, path, body):
        kind, num, key = self.fault
        fwd = ['content-type', 'accept', 'user-agent', 'prefer', 'accept-encoding']
        if kind != 'bearer':
            fwd.append('authorization')
        hdrs = {k: v for k, v in self.headers.items() if k.lower() in fwd}
        hdrs['X-Forwarded-Prefix'] = self.prefix
        req = urllib.request.Request(UP + path, data=body, method=self.command,
                                     headers=hdrs)
        try:
            with urllib.request.urlopen(req) as r:
                code, data, rh = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            code, data, rh = e.code, e.read(), e.headers
        if path != self.path:
            data = data.replace(UP.encode(), self.prefix.encode())
        keep = [(k, rh.get(k)) for k in ('Content-Encoding', 'Content-Location',
                                         'Retry-After', 'X-Progress', 'Expires')
                if rh.get(k) is not None]
        out = [('Content-Type', rh.get('Content-Type') or 'application/json'),
               ('X-Seen-User-Agent', self.headers.get('User-Agent', ''))] + keep
        if kind == 'trunc' and len(data) > 100:
            with lock:
                tkey = 'trunc:' + key
                seen[tkey] = seen.get(tkey, 0) + 1
                cut = seen[tkey] <= int(num)
            if cut:
                self.send_response(code)
                for k, v in out:
                    self.send_header(k, v)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
        self.reply(code, data, out)
    do_GET = do_PUT = do_POST = do_DELETE = handle_any

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

# FAULT_PROXY_PORT: listen on that port (a proxy started again where a
# killed one was, as a server that comes back); else any free port
import os
srv = S(('127.0.0.1', int(os.environ.get('FAULT_PROXY_PORT', '0'))), H)
SCHEME = 'https' if len(sys.argv) > 4 else 'http'
if len(sys.argv) > 4:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(sys.argv[1] + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[1] + '.tmp', sys.argv[1])
srv.serve_forever()
