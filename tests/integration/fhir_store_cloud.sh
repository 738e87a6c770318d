#!/bin/sh
# fhir_store_cloud.sh - the cloud flavours of the fhir-store target
# (flavour="google", "azure", "aws-healthlake"), each through `sluice
# push --target ID`, against independent implementations on 127.0.0.1:
# tests/auth-server/server.mjs (oidc-provider 9 issuing and checking
# tokens, jose verifying the service account's RS256 JWT grant,
# @smithy/signature-v4 re-computing SigV4) in front of the real test FHIR
# server (tests/fhir-server). Each flavour's resources must all land on
# the FHIR server, a wrong credential must land none, and check-config
# must refuse a flavour whose base or <auth> does not fit.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/connectors_lib.sh"
. "${top_srcdir:-.}/tests/integration/auth_lib.sh"
# both peers killed before the one wait (each lib's own trap waits for
# every child, the other's included)
trap 'kill $PID $SRV_PID $PROXY_PID 2>/dev/null; wait 2>/dev/null; cleanup_tmp' EXIT
export ON_GOOGLE ON_GOOGLE2 ON_AZURE ON_AZURE2 ON_AWS ON_AWS2

NT=11
plan $NT
conn_need $NT
conn_start || skip_all $NT "the test FHIR server does not start"
# the Google service account's key, made here; the front forwards to the
# FHIR server
mkdir -p "$T/g"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/g/sa.pem" 2>/dev/null
openssl pkey -in "$T/g/sa.pem" -pubout -out "$T/g/sa.pub" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/g/other.pem" 2>/dev/null
export FHIR_UPSTREAM="$BASE" GOOGLE_PUB="$T/g/sa.pub" \
    GOOGLE_EMAIL=sluice-push@trial-42.iam.gserviceaccount.com GOOGLE_KID=sa-key-1
plan() { :; } # planned above; auth_start would plan again
auth_start $NT
FRONT="http://127.0.0.1:$(port fhir)"
GTOK="http://127.0.0.1:$(port google)/token"
# sa_json PEM: a service account key file as the Cloud console writes it
sa_json() {
    jq -n --rawfile k "$1" --arg e "$GOOGLE_EMAIL" --arg u "$GTOK" \
        '{type: "service_account", project_id: "trial-42", private_key_id: "sa-key-1",
          private_key: $k, client_email: $e, client_id: "1234567890",
          token_uri: $u, auth_uri: "https://accounts.google.com/o/oauth2/auth"}'
}
sa_json "$T/g/sa.pem" >"$T/g/sa.json"
sa_json "$T/g/other.pem" >"$T/g/other.json"

# input: synthetic patients, a different seed per flavour so that each
# push adds its own resources; ids FILE: the input's Type/id
input() {
    sluice synth --patients 2 --seed "$2" -o "$T/syn-$1" >/dev/null 2>&1
    jq -r '.entry[].resource | "\(.resourceType)/\(.id)"' "$T/syn-$1"/fhir/*.json >"$T/ids-$1"
}
# on_server NAME: how many of NAME's resources the FHIR server holds
on_server() {
    n=0
    while read -r ref; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/$ref")" = 200 ] && n=$((n + 1))
    done <"$T/ids-$1"
    echo $n
}
# conf NAME TARGET-XML: a configuration with that one target
conf() {
    cat >"$T/$1.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  $2
</sluice>
EOC
}
# push NAME: sluice push of NAME's input to target "cloud"
push() {
    sluice -c "$T/$1.xml" push --target cloud --quarantine "$T/q-$1" \
        "$T/syn-$2"/fhir >"$T/$1.out" 2>"$T/$1.err"
}

# --- google --------------------------------------------------------------
input google 31
N=$(wc -l <"$T/ids-google")
GBASE="$FRONT/v1/projects/trial-42/locations/europe-west4/datasets/research/fhirStores/clean/fhir"
conf google "<target id=\"cloud\" type=\"fhir-store\" flavour=\"google\" base=\"$GBASE\" bundle=\"transaction\" bundle-size=\"8\">
    <auth type=\"google-service-account\" key=\"file:$T/g/sa.json\"/></target>"
push google google
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$T/google.err"
ON_GOOGLE=$(on_server google)
check "google: push exits 0 and all $N resources are on the server" \
    sh -c '[ "$1" -eq 0 ] && [ "$ON_GOOGLE" -eq "$2" ]' _ $rc "$N"
curl -s "$FRONT/stats" >"$T/stats.json"
check "google: the token endpoint verified an RS256 JWT from the key file (iss, aud, kid, scope, at most an hour)" \
    jq -e --arg e "$GOOGLE_EMAIL" --arg u "$GTOK" '.google | length >= 1 and
        (.[0].header.alg == "RS256") and (.[0].header.kid == "sa-key-1") and
        (.[0].claims.iss == $e) and (.[0].claims.aud == $u) and
        (.[0].claims.exp - .[0].claims.iat <= 3600)' "$T/stats.json"
input google2 32
conf google2 "<target id=\"cloud\" type=\"fhir-store\" flavour=\"google\" base=\"$GBASE\">
    <auth type=\"google-service-account\" key=\"file:$T/g/other.json\"/></target>"
push google2 google2
rc=$?
ON_GOOGLE2=$(on_server google2)
check "google: a key the account does not have gets no token (exit $rc), nothing lands, the error names the endpoint and invalid_grant" \
    sh -c '[ "$1" -eq 2 ] && [ "$ON_GOOGLE2" -eq 0 ] &&
           grep -q "token endpoint 127.0.0.1: HTTP 400, OAuth error invalid_grant" "$2" &&
           ! grep -q "PRIVATE KEY" "$2"' _ $rc "$T/google2.err"

# --- azure ---------------------------------------------------------------
input azure 33
N=$(wc -l <"$T/ids-azure")
conf azure "<target id=\"cloud\" type=\"fhir-store\" flavour=\"azure\" base=\"$FRONT/azure\" bundle=\"batch\" bundle-size=\"10\" concurrency=\"3\">
    <auth type=\"client-credentials\" client-id=\"azure-client\" client-secret=\"file:$K/cc.secret\" token-url=\"http://127.0.0.1:$(port oidc)/token\"/></target>"
push azure azure
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$T/azure.err"
ON_AZURE=$(on_server azure)
check "azure: push exits 0 and all $N resources are on the server (the token asked for BASE/.default)" \
    sh -c '[ "$1" -eq 0 ] && [ "$ON_AZURE" -eq "$2" ]' _ $rc "$N"
input azure2 34
conf azure2 "<target id=\"cloud\" type=\"fhir-store\" flavour=\"azure\" base=\"$FRONT/azure\" bundle=\"batch\">
    <auth type=\"client-credentials\" client-id=\"azure-client\" client-secret=\"file:$K/cc.secret\" token-url=\"http://127.0.0.1:$(port oidc)/token\" scope=\"system/Patient.rs\"/></target>"
push azure2 azure2
rc=$?
ON_AZURE2=$(on_server azure2)
check "azure: a token for another audience is refused by the server: exit $rc, every resource quarantined, none lands" \
    sh -c '[ "$1" -eq 3 ] && [ "$ON_AZURE2" -eq 0 ] &&
           [ "$(ls "$2"/*.reason.txt | wc -l)" -eq "$3" ] && grep -q "HTTP 401" "$2"/*.reason.txt' \
    _ $rc "$T/q-azure2" "$(wc -l <"$T/ids-azure2")"

# --- aws-healthlake ------------------------------------------------------
input aws 35
N=$(wc -l <"$T/ids-aws")
ABASE="$FRONT/datastore/0123456789abcdef0123456789abcdef/r4"
conf aws "<target id=\"cloud\" type=\"fhir-store\" flavour=\"aws-healthlake\" base=\"$ABASE\" bundle=\"transaction\" bundle-size=\"5\">
    <auth type=\"aws-sigv4\" region=\"eu-west-3\" access-key-id=\"file:$K/akid\" secret-access-key=\"env:SL_TEST_SAK\" session-token=\"file:$K/session\"/></target>"
SL_TEST_SAK=$(cat "$K/sak") push aws aws
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$T/aws.err"
ON_AWS=$(on_server aws)
check "aws-healthlake: push exits 0 and all $N resources are on the server (every request's SigV4 verified)" \
    sh -c '[ "$1" -eq 0 ] && [ "$ON_AWS" -eq "$2" ]' _ $rc "$N"
input aws2 36
SL_TEST_SAK=wrongSecretKeyWrongSecretKeyWrongSecret push aws aws2
rc=$?
ON_AWS2=$(on_server aws2)
check "aws-healthlake: a wrong secret key: exit $rc, nothing lands, the secret is not printed" \
    sh -c '[ "$1" -eq 3 ] && [ "$ON_AWS2" -eq 0 ] &&
           ! grep -q wrongSecret "$2" "$3"' _ $rc "$T/aws.err" "$T/aws.out"

# --- check-config --------------------------------------------------------
conf bad1 "<target id=\"cloud\" type=\"fhir-store\" flavour=\"google\" base=\"$GBASE\">
    <auth type=\"bearer\" token=\"env:X\"/></target>"
sluice -c "$T/bad1.xml" check-config >/dev/null 2>"$T/bad1.err"
rc=$?
check "check-config: flavour google with a bearer <auth> is an error naming the line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "bad1.xml:3.*flavour \"google\" needs <auth type=\"google-service-account\">" "$2"' _ $rc "$T/bad1.err"
conf bad2 "<target id=\"cloud\" type=\"fhir-store\" flavour=\"aws-healthlake\" base=\"$FRONT/fhir\">
    <auth type=\"aws-sigv4\" region=\"eu-west-3\" service=\"s3\" access-key-id=\"env:A\" secret-access-key=\"env:B\"/></target>"
sluice -c "$T/bad2.xml" check-config >/dev/null 2>"$T/bad2.err"
rc=$?
check "check-config: aws-healthlake with another base and service: both named" \
    sh -c '[ "$1" -eq 1 ] && grep -q "base must end in datastore/DATASTORE-ID/r4" "$2" &&
           grep -q "signs for service healthlake, not s3" "$2"' _ $rc "$T/bad2.err"
conf bad3 "<target id=\"cloud\" type=\"fhir-store\" flavour=\"google\" base=\"$FRONT/fhir\">
    <auth type=\"google-service-account\" key=\"file:$T/g/sa.json\"/></target>"
sluice -c "$T/bad3.xml" check-config >/dev/null 2>"$T/bad3.err"
check "check-config: google with a base outside projects/.../fhirStores/.../fhir" \
    grep -q "base must end in projects/PROJECT/locations/LOCATION/datasets/DATASET/fhirStores/STORE/fhir" "$T/bad3.err"
printf '{"type": "service_account", "client_email": "x@y", "private_key": "nope"' >"$T/g/broken.json"
conf bad4 "<target id=\"cloud\" type=\"fhir-store\" flavour=\"google\" base=\"$GBASE\">
    <auth type=\"google-service-account\" key=\"file:$T/g/broken.json\"/></target>"
input bad4 37
push bad4 bad4
rc=$?
check "google: a key file that is not JSON stops the push before any request, naming line and column, quoting nothing" \
    sh -c '[ "$1" -ne 0 ] && [ "$1" -ne 3 ] && grep -q "service account key is not JSON (line 1, column" "$2" &&
           ! grep -q nope "$2"' _ $rc "$T/bad4.err"
finish
