# Helpers shared by the scripts under scripts/: logging, Debian packages and the cargo target
# folder. Source this file from bash. It defines functions and sets no shell options.

kinlink_log() {
  printf '==> %s\n' "$*" >&2
}

kinlink_warn() {
  printf 'warning: %s\n' "$*" >&2
}

kinlink_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Sets CARGO_TARGET_DIR to a folder outside the clone unless the caller chose one, so CI runs,
# fresh clones and later builds reuse the compiled dependencies (about 4 GB with tests and
# clippy).
kinlink_use_persistent_target_dir() {
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kinlink-target}"
  mkdir -p "$CARGO_TARGET_DIR"
}

# Prints the Debian packages that building the workspace needs, one per line. $1 is the
# repository root.
kinlink_build_packages() {
  local root=$1
  # rustc links through cc, and the bundled SQLite is C code. clang and libclang serve bindgen.
  printf '%s\n' gcc libc6-dev pkg-config clang libclang-dev
  # ffmpeg-sys-next compiles against the FFmpeg headers, which only a workspace that uses
  # ffmpeg-next needs.
  if grep -q '^name = "ffmpeg-sys-next"$' "$root/Cargo.lock" 2>/dev/null; then
    printf '%s\n' libavcodec-dev libavformat-dev libavutil-dev libswscale-dev \
      libswresample-dev libavfilter-dev libavdevice-dev
  fi
  if grep -q '^name = "libheif-sys"$' "$root/Cargo.lock" 2>/dev/null; then
    printf '%s\n' libheif-dev
  fi
}

# Prints those of the given Debian packages that are not installed.
kinlink_missing_packages() {
  local package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$package"
    fi
  done
}

# Installs the given Debian packages that are missing. Runs `apt-get update` at most once per
# script run. DPkg::Lock::Timeout makes apt wait up to 10 minutes for a lock that another apt
# process holds. Returns non-zero if the installation failed.
kinlink_ensure_packages() {
  if ! command -v dpkg-query >/dev/null; then
    kinlink_warn "dpkg-query not found, so packages cannot be checked: make sure these are installed: $*"
    return 0
  fi

  local missing
  mapfile -t missing < <(kinlink_missing_packages "$@")
  if ((${#missing[@]} == 0)); then
    return 0
  fi

  local sudo=()
  if ((EUID != 0)); then
    if ! command -v sudo >/dev/null; then
      kinlink_warn "missing Debian packages and no sudo to install them: ${missing[*]}"
      return 1
    fi
    sudo=(sudo)
  fi

  kinlink_log "installing Debian packages: ${missing[*]}"
  local apt_options=(-o DPkg::Lock::Timeout=600)
  if [[ -z ${KINLINK_APT_UPDATED:-} ]]; then
    "${sudo[@]}" apt-get "${apt_options[@]}" update || return 1
    KINLINK_APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_options[@]}" install -y --no-install-recommends "${missing[@]}"
}

# Fails with a message if cargo is not on PATH.
kinlink_require_cargo() {
  if ! command -v cargo >/dev/null; then
    kinlink_die "cargo not found: install Rust 1.94 or newer (https://rustup.rs), then run this again"
  fi
}

# Prints the time since the epoch in microseconds, for timing steps.
kinlink_now_us() {
  local now=${EPOCHREALTIME/[.,]/}
  printf '%s\n' "$((10#$now))"
}
