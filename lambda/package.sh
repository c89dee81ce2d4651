#!/usr/bin/env bash
# Builds the release artifacts: one self-contained static binary per executable at
# .build/dist/bin/<name> (with .build/dist/SHA256SUMS), and for each reconciler the Lambda zip for
# provided.al2023 (x86_64), .build/lambda/<reconciler>.zip, whose `bootstrap` is that same file. The binary links a minimal static libcurl (built here from
# Debian's curl source, pinned below), static OpenSSL and libstdc++, and the static Swift stdlib, so
# it needs only libc, libm, libgcc_s and the loader, at GLIBC_2.34 at most. The script checks that
# itself and fails on a regression, then prints each zip's size.
#
#   lambda/package.sh            # every executable that exists
#   lambda/package.sh --check    # re-run the checks on what was built (binaries, sums, zips)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
OUT="$ROOT/.build/lambda"
DIST="$ROOT/.build/dist"
DEPS="$OUT/deps"
CURL_SOURCE_VERSION="7.88.1-10+deb12u15"   # Debian bookworm's curl; bump deliberately
CURL_UPSTREAM="${CURL_SOURCE_VERSION%%-*}"
MAX_GLIBC="2.34"
ALLOWED_NEEDED="libc.so.6 libm.so.6 libgcc_s.so.1 ld-linux-x86-64.so.2"
mkdir -p "$OUT" "$DEPS" "$DIST/bin"

say() { echo "package: $*" >&2; }
die() { echo "package: error: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "only x86_64 can be built here (provided.al2023 x86_64); arm64 needs a cross SDK"

reconcilers() {
    local r
    for r in reconcile-tokens reconcile-dns rotate-user-token; do
        if [ -d "Sources/$r" ]; then echo "$r"; fi
    done
    return 0
}

# Every executable product: the reconcilers (each also a Lambda zip), the scheduler, and the
# multi-call binary the container image holds.
executables() {
    reconcilers
    if grep -q '"kmesh-scheduler"' Package.swift; then echo kmesh-scheduler; fi
    if grep -q '"kmesh-ecs"' Package.swift; then echo kmesh-ecs; fi
    return 0
}

check_binary() {
    local bin="$1" needed glibc bad
    needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
    for lib in $needed; do
        case " $ALLOWED_NEEDED " in *" $lib "*) ;; *) die "$bin needs $lib (allowed: $ALLOWED_NEEDED)";; esac
    done
    glibc=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
    [ "$(printf '%s\n%s\n' "$glibc" "$MAX_GLIBC" | sort -V | tail -1)" = "$MAX_GLIBC" ] \
        || die "$bin needs GLIBC_$glibc; provided.al2023 has $MAX_GLIBC ($(objdump -T "$bin" | grep "GLIBC_$glibc" | awk '{print $NF}' | sort -u | tr '\n' ' '))"
    bad=$(objdump -T "$bin" | grep -oE 'GLIBCXX_[0-9.]+|CURL_[A-Z0-9_]+|GLIBC_PRIVATE' | sort -u | tr '\n' ' ' || true)
    [ -z "$bad" ] || die "$bin references $bad"
    say "$2: NEEDED $needed; highest GLIBC_$glibc; no GLIBCXX_/CURL_/GLIBC_PRIVATE"
}

check_all() {
    local name tmp
    (cd "$DIST" && sha256sum --quiet -c SHA256SUMS) || die "$DIST/SHA256SUMS does not match the binaries"
    for name in $(executables); do
        [ -x "$DIST/bin/$name" ] || die "$DIST/bin/$name is missing"
        check_binary "$DIST/bin/$name" "bin/$name"
        grep -q " bin/$name\$" "$DIST/SHA256SUMS" || die "SHA256SUMS has no line for bin/$name"
    done
    for name in $(reconcilers); do
        tmp=$(mktemp -d)
        python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$OUT/$name.zip" "$tmp"
        cmp -s "$tmp/bootstrap" "$DIST/bin/$name" || { rm -rf "$tmp"; die "$name.zip's bootstrap is not bin/$name"; }
        rm -rf "$tmp"
    done
    say "checked: $(executables | tr '\n' ' ')(static, SHA256SUMS match, each zip's bootstrap is its bin/ file)"
}

if [ "${1:-}" = "--check" ]; then
    check_all
    exit 0
fi

# --- tools --------------------------------------------------------------------------------------
need=()
for pkg in dpkg-dev binutils libssl-dev pkg-config make; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if ((${#need[@]})); then
    say "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"

# --- a minimal static libcurl from Debian's source ------------------------------------------------
CURL_PREFIX="$DEPS/curl-$CURL_SOURCE_VERSION"
if [ ! -f "$CURL_PREFIX/lib/libcurl.a" ]; then
    src_list=/etc/apt/sources.list.d/kmesh-ecs-src.sources
    if ! apt-cache showsrc curl 2>/dev/null | grep -q "^Version: $CURL_SOURCE_VERSION\$"; then
        say "adding a deb-src entry for Debian's curl source ($src_list)"
        cat > "$src_list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        apt-get update -qq
    fi
    work="$DEPS/curl-src"
    rm -rf "$work"; mkdir -p "$work"
    say "fetching curl $CURL_SOURCE_VERSION source"
    (cd "$work" && apt-get source -qq --download-only "curl=$CURL_SOURCE_VERSION" >/dev/null \
        && dpkg-source -q -x ./*.dsc src >/dev/null) || die "cannot get Debian's curl $CURL_SOURCE_VERSION source"
    say "configuring a minimal static libcurl (HTTP/HTTPS, OpenSSL, threaded resolver)"
    (cd "$work/src" && ./configure -q --prefix="$CURL_PREFIX" --disable-shared --enable-static --with-pic \
        --with-openssl --enable-threaded-resolver --enable-symbol-hiding --disable-ldap --disable-ldaps \
        --disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb \
        --disable-smtp --disable-gopher --disable-mqtt --disable-ftp --disable-file --disable-manual --disable-ntlm \
        --disable-alt-svc --disable-cookies --disable-netrc --without-zlib --without-brotli --without-zstd --without-libpsl \
        --without-libidn2 --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-libssh2 --without-libssh \
        --without-librtmp --without-gssapi --without-libgsasl \
        --with-ca-bundle=/etc/pki/tls/certs/ca-bundle.crt --with-ca-fallback >/dev/null) || die "curl's configure failed"
    say "building libcurl"
    make -s -C "$work/src/lib" -j"$(nproc)" >/dev/null 2>&1 || die "libcurl did not build"
    make -s -C "$work/src/lib" install >/dev/null && make -s -C "$work/src/include" install >/dev/null
    rm -rf "$work"
fi

# --- pkg-config files and a static-only library folder --------------------------------------------
STATIC="$OUT/static"
PC="$OUT/pkgconfig"
mkdir -p "$STATIC" "$PC"
ln -sf /usr/lib/x86_64-linux-gnu/libssl.a "$STATIC/libssl.a"
ln -sf /usr/lib/x86_64-linux-gnu/libcrypto.a "$STATIC/libcrypto.a"
ln -sf "$CURL_PREFIX/lib/libcurl.a" "$STATIC/libcurl.a"
# A linker script named libstdc++.so found first: the C++ runtime linked statically.
libstdcxx=$(gcc -print-file-name=libstdc++.a)
[ -f "$libstdcxx" ] || die "gcc's libstdc++.a is missing"
echo "INPUT($libstdcxx)" > "$STATIC/libstdc++.so"
cat > "$PC/libcurl.pc" <<PCF
Name: libcurl
Description: minimal static libcurl for the Lambda build
Version: $CURL_UPSTREAM
Cflags: -I$CURL_PREFIX/include -DCURL_STATICLIB
Libs: -L$STATIC -lcurl -lssl -lcrypto -lpthread -ldl
PCF
cat > "$PC/libcrypto.pc" <<PCF
Name: libcrypto
Description: static OpenSSL libcrypto for the Lambda build
Version: 3
Cflags:
Libs: -L$STATIC -lcrypto -lpthread -ldl
PCF

# --- build, check, zip --------------------------------------------------------------------------
SCRATCH="$OUT/build"
products=$(executables)
[ -n "$products" ] || die "no executables found under Sources/"
for r in $products; do
    say "building $r (release, static Swift stdlib)"
    PKG_CONFIG_PATH="$PC" PKG_CONFIG_LIBDIR="$PC" swift build -c release --scratch-path "$SCRATCH" --product "$r" \
        --static-swift-stdlib -Xcc -DKMESH_LAMBDA_COMPAT -Xlinker -L"$STATIC" > "$OUT/build-$r.log" 2>&1 \
        || { grep -E "error" "$OUT/build-$r.log" | head -20 >&2; die "$r did not build (log: $OUT/build-$r.log)"; }
    bin="$SCRATCH/release/$r"
    [ -x "$bin" ] || die "$r did not build"
    strip -o "$DIST/bin/$r.tmp" "$bin"
    chmod 755 "$DIST/bin/$r.tmp"
    mv "$DIST/bin/$r.tmp" "$DIST/bin/$r"
    check_binary "$DIST/bin/$r" "bin/$r"
    say "bin/$r: $(awk -v b="$(stat -c %s "$DIST/bin/$r")" 'BEGIN { printf "%.2f MB", b / 1e6 }')"
    case " $(reconcilers | tr '\n' ' ') " in *" $r "*) ;; *) continue;; esac
    python3 - "$DIST/bin/$r" "$OUT/$r.zip" <<'PY'
import sys, zipfile, os
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 & 0xFFFF) << 16
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(dst + ".tmp", "w") as z, open(src, "rb") as f:
    z.writestr(info, f.read(), compresslevel=9)
os.replace(dst + ".tmp", dst)
PY
    size=$(stat -c %s "$OUT/$r.zip")
    awk -v r="$r" -v z="$size" -v b="$(stat -c %s "$DIST/bin/$r")" \
        'BEGIN { printf "package: %s.zip: %.2f MB zipped (%d bytes), bootstrap %.2f MB\n", r, z / 1e6, z, b / 1e6 }'
    [ "$size" -le 10000000 ] || die "$r.zip is over 10 MB"
done

(cd "$DIST" && sha256sum $(for n in $products; do echo "bin/$n"; done) > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
check_all
