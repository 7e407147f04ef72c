# Shared by scripts/run and scripts/test: installs, once, what building
# Tandem needs. Everything comes from crates.io, npm or Debian's archive;
# nothing is downloaded from anywhere else.

WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen in Cargo.lock
ASCIINEMA_VERSION=2.4.0
AIOSMTPD_VERSION=1.4.6

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages, installed only when a command is missing.
ensure_debian_packages() {
  local missing=()
  while [ $# -gt 0 ]; do
    command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || missing+=("$2")
    shift 2
  done
  if [ ${#missing[@]} -gt 0 ]; then
    install_debian_packages "${missing[@]}"
  fi
}

install_debian_packages() {
  step "Installing Debian packages: $*"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

ensure_build_tools() {
  command -v cargo >/dev/null || { echo "Tandem needs Rust from rustup (https://rustup.rs)"; exit 1; }
  command -v npm >/dev/null || { echo "Tandem needs Node.js and npm"; exit 1; }

  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "Adding the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    step "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes, once)"
    # Not --locked: its lockfile names a webpki-roots release the registry lacks.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    step "Installing npm packages from package-lock.json"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
    touch node_modules
  fi
  # wasm-opt from npm's binaryen: Debian's older one breaks the WASM bundle.
  export PATH="$PWD/node_modules/.bin:$PATH"
}

# Builds the site `tandem serve` serves from target/site: the page's WASM
# bundle (the frontend crate for wasm32, bound by wasm-bindgen), its style
# sheet and the public assets. `build_site release` optimises the bundle
# for serving; `build_site debug` is quicker to build, for tests.
build_site() {
  local wasm_profile=dev wasm_dir=debug site=target/site
  if [ "$1" = release ]; then
    wasm_profile=wasm-release wasm_dir=wasm-release
  fi
  step "Building the page's WASM ($wasm_profile)"
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$wasm_profile"
  rm -rf "$site"
  mkdir -p "$site/pkg"
  # The page loads pkg/tandem.js, which loads pkg/tandem_bg.wasm.
  wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name tandem \
    "target/wasm32-unknown-unknown/$wasm_dir/frontend.wasm"
  if [ "$1" = release ]; then
    wasm-opt -Oz "$site/pkg/tandem_bg.wasm" -o "$site/pkg/tandem_bg.wasm"
  fi
  cp style/main.css "$site/pkg/tandem.css"
  cp -r public/. "$site/"
}

# A package from PyPI in a virtual environment of its own under
# target/tools/<name>, replacing whatever was there.
install_pypi_tool() {
  local venv="$PWD/target/tools/$1" requirement="$2"
  ensure_debian_packages python3 python3
  python3 -c 'import venv, ensurepip' 2>/dev/null || install_debian_packages python3-venv
  step "Installing $requirement from PyPI"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$requirement"
}

# The asciinema CLI, for the tests that play recordings. Exports
# TANDEM_ASCIINEMA.
ensure_asciinema() {
  local venv="$PWD/target/tools/asciinema"
  if [ "$("$venv/bin/asciinema" --version 2>/dev/null)" != "asciinema $ASCIINEMA_VERSION" ]; then
    install_pypi_tool asciinema "asciinema==$ASCIINEMA_VERSION"
  fi
  export TANDEM_ASCIINEMA="$venv/bin/asciinema"
}

# The aiosmtpd SMTP server, for the tests that send email through a real
# SMTP server. Exports TANDEM_SMTP_PYTHON, the environment's python.
ensure_smtp_server() {
  local venv="$PWD/target/tools/aiosmtpd"
  if [ "$("$venv/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)' 2>/dev/null)" != "$AIOSMTPD_VERSION" ]; then
    install_pypi_tool aiosmtpd "aiosmtpd==$AIOSMTPD_VERSION"
  fi
  export TANDEM_SMTP_PYTHON="$venv/bin/python"
}

# A PostgreSQL server for the database tests. Exports TANDEM_TEST_POSTGRES_URL:
# the one given, else the server answering on 127.0.0.1:5432, else a private
# server that this function installs (from Debian) and starts on a free
# loopback port in a temporary directory, stopped when the calling script
# exits.
ensure_postgres() {
  if [ -n "${TANDEM_TEST_POSTGRES_URL:-}" ]; then return; fi
  if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export TANDEM_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432
    return
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ]; then
    install_debian_packages postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  local dir port
  dir=$(mktemp -d /tmp/tandem-postgres.XXXXXX)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  step "Starting a private PostgreSQL on 127.0.0.1:$port"
  # PostgreSQL refuses to run as root: as the postgres user when we are root.
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust >"$dir/initdb.log"
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir"
  POSTGRES_STOP=("${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop)
  trap '"${POSTGRES_STOP[@]}" >/dev/null; rm -rf "$POSTGRES_DIR"' EXIT
  POSTGRES_DIR=$dir
  export TANDEM_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port
}
