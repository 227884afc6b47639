#!/usr/bin/env bash
# Install Walk Coach on a fresh Raspberry Pi OS Lite (Bookworm) on a Pi Zero 2 W.
#
# Usage: sudo hardware/install.sh [--dry-run] [--root DIR]
#   --dry-run   print every change it would make and change nothing.
#   --root DIR  install into DIR instead of / (tests, or a mounted SD-card root): every path is
#               prefixed with DIR, and the commands that act on the running system (apt-get,
#               useradd, python -m venv, pip, systemctl, pedometer selftest) are printed, not run.
#
# What it does, each step only when needed (a second run changes nothing):
#   1. config.txt: I2C on, 400 kHz, USB peripheral mode (hardware/config.txt.snippet).
#   2. /etc/modules: i2c-dev, dwc2, libcomposite.
#   3. apt-get install python3-venv python3-lgpio i2c-tools.
#   4. system user walkcoach in groups i2c, gpio, dialout.
#   5. venv /opt/walkcoach/venv with this repository installed: pip install "SRC[pi]".
#   6. /etc/walkcoach/device.toml (only if absent: your edits are kept).
#   7. systemd units pedometer.service and walkcoach-gadget.service, enabled;
#      serial-getty@ttyGS0 masked (no login shell on the sync port).
#   8. when I2C and the USB controller are live (after the first reboot): pedometer selftest,
#      then start the units.
set -euo pipefail

readonly APT_PACKAGES=(python3-venv python3-lgpio i2c-tools)
readonly MODULES=(i2c-dev dwc2 libcomposite)
readonly USER_NAME=walkcoach
readonly USER_GROUPS=(i2c gpio dialout)
readonly PREFIX=/opt/walkcoach
readonly VENV=$PREFIX/venv
readonly CONFIG_DIR=/etc/walkcoach
readonly UNIT_DIR=/etc/systemd/system
readonly UNITS=(walkcoach-gadget.service pedometer.service)
readonly GETTY_UNIT=serial-getty@ttyGS0.service
readonly MARKER="# Walk Coach (added by hardware/install.sh)"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
SRC="$(dirname "$HERE")"
ROOT=/
DRY_RUN=0
CHANGES=0
NEEDS_RESTART=0

say() { printf '==> %s\n' "$*"; }
warn() { printf 'install: warning: %s\n' "$*" >&2; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --root)
            [[ $# -ge 2 && -n "$2" ]] || { echo "install: --root needs a directory" >&2; exit 2; }
            ROOT="$2"; shift 2 ;;
        --root=*) ROOT="${1#--root=}"; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install: unknown option: $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ -d "$ROOT" ]] || die "--root $ROOT is not a directory"
ROOT="$(cd "$ROOT" && pwd -P)"
P="${ROOT%/}"   # prefix for absolute paths: "" for the live system
LIVE=0
[[ "$ROOT" == / ]] && LIVE=1

if [[ $LIVE -eq 1 && $DRY_RUN -eq 0 && $EUID -ne 0 ]]; then
    die "must run as root: sudo $0 (or try --dry-run to see what it would do)"
fi
for f in config.txt.snippet device.toml pedometer.service walkcoach-gadget.service usb-gadget.sh; do
    [[ -f "$HERE/$f" ]] || die "missing $HERE/$f: run install.sh from a complete checkout"
done
[[ -f "$SRC/pyproject.toml" ]] || die "no pyproject.toml in $SRC: run install.sh from the repository"

# Record one change to files; in dry-run print it and tell the caller to skip the action.
change() {
    CHANGES=$((CHANGES + 1))
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '    would %s\n' "$*"
        return 1
    fi
    printf '    %s\n' "$*"
    return 0
}

# A command that acts on the running system: printed instead of run in dry-run or under --root.
run_live() {
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '    would run: %s\n' "$*"
    elif [[ $LIVE -eq 0 ]]; then
        printf '    not run (--root %s): %s\n' "$ROOT" "$*"
    else
        printf '    run: %s\n' "$*"
        "$@"
    fi
}

# Copy FILE to DEST (mode MODE) when DEST is missing or different.
install_file() {
    local src="$1" dest="$2" mode="$3"
    if [[ -f "$P$dest" ]] && cmp -s "$src" "$P$dest"; then
        return 1
    fi
    local verb=install
    [[ -e "$P$dest" ]] && verb=update
    if change "$verb $dest"; then
        install -D -m "$mode" "$src" "$P$dest"
    fi
    return 0
}

# Appending to a file whose last line lacks its newline would glue two lines together.
ensure_final_newline() {
    local file="$1" last=""
    [[ -s "$file" ]] || return 0
    last="$(tail -c 1 "$file")"
    if [[ -n "$last" ]]; then printf '\n' >>"$file"; fi
}

ensure_symlink() {
    local target="$1" link="$2" why="$3"
    [[ -L "$P$link" && "$(readlink "$P$link")" == "$target" ]] && return 0
    if change "$why"; then
        mkdir -p "$(dirname "$P$link")"
        ln -sfn "$target" "$P$link"
    fi
}

# --- 1. config.txt ---------------------------------------------------------------------------
configure_boot() {
    say "boot configuration (I2C, USB gadget mode)"
    local cfg
    if [[ -f "$P/boot/firmware/config.txt" ]]; then
        cfg=/boot/firmware/config.txt
    elif [[ -f "$P/boot/config.txt" ]]; then
        cfg=/boot/config.txt
    elif [[ $LIVE -eq 1 ]]; then
        die "no /boot/firmware/config.txt or /boot/config.txt: is this Raspberry Pi OS?"
    else
        cfg=/boot/firmware/config.txt
    fi

    local -a wanted=() missing=()
    local line
    while IFS= read -r line; do
        line="${line%%#*}"
        line="${line//[[:space:]]/}"
        [[ -n "$line" ]] && wanted+=("$line")
    done <"$HERE/config.txt.snippet"

    for line in "${wanted[@]}"; do
        if [[ -f "$P$cfg" ]] && grep -qxF -- "$line" "$P$cfg"; then
            continue
        fi
        missing+=("$line")
    done
    if [[ -f "$P$cfg" ]] && grep -Eq '^[[:space:]]*dtoverlay=dwc2' "$P$cfg" \
        && ! grep -qxF 'dtoverlay=dwc2,dr_mode=peripheral' "$P$cfg"; then
        warn "$cfg already loads dwc2 with other settings: check that only dr_mode=peripheral stays"
    fi
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "    $cfg: already set"
        return 0
    fi
    for line in "${missing[@]}"; do
        change "add to $cfg: $line" || true
    done
    if [[ $DRY_RUN -eq 0 ]]; then
        mkdir -p "$(dirname "$P$cfg")"
        ensure_final_newline "$P$cfg"
        # A trailing section such as [cm4] would otherwise capture our lines: reopen [all].
        printf '\n%s\n[all]\n' "$MARKER" >>"$P$cfg"
        printf '%s\n' "${missing[@]}" >>"$P$cfg"
    fi
    REBOOT_REASON="config.txt changed"
}

# --- 2. /etc/modules ---------------------------------------------------------------------------
configure_modules() {
    say "kernel modules at boot (/etc/modules)"
    local mod any=0
    for mod in "${MODULES[@]}"; do
        if [[ -f "$P/etc/modules" ]] && grep -qxF -- "$mod" "$P/etc/modules"; then
            continue
        fi
        any=1
        if change "add to /etc/modules: $mod"; then
            mkdir -p "$P/etc"
            ensure_final_newline "$P/etc/modules"
            printf '%s\n' "$mod" >>"$P/etc/modules"
        fi
    done
    [[ $any -eq 1 ]] || echo "    /etc/modules: already set"
}

# --- 3. packages -------------------------------------------------------------------------------
install_packages() {
    say "system packages: ${APT_PACKAGES[*]}"
    local -a missing=()
    local pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        if [[ $LIVE -eq 1 ]] && dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
            continue
        fi
        missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "    already installed"
        return 0
    fi
    run_live apt-get update
    run_live env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# --- 4. user -----------------------------------------------------------------------------------
create_user() {
    say "system user $USER_NAME (groups ${USER_GROUPS[*]})"
    local grp
    # Raspberry Pi OS has these groups already; other systems may lack i2c and gpio.
    if [[ $LIVE -eq 1 ]]; then
        for grp in "${USER_GROUPS[@]}"; do
            getent group "$grp" >/dev/null || run_live groupadd --system "$grp"
        done
    fi
    local groups_csv
    groups_csv="$(IFS=,; echo "${USER_GROUPS[*]}")"
    if [[ $LIVE -eq 1 ]] && id "$USER_NAME" >/dev/null 2>&1; then
        local have missing_groups=()
        have=" $(id -nG "$USER_NAME") "
        for grp in "${USER_GROUPS[@]}"; do
            [[ "$have" == *" $grp "* ]] || missing_groups+=("$grp")
        done
        if [[ ${#missing_groups[@]} -gt 0 ]]; then
            run_live usermod -aG "$(IFS=,; echo "${missing_groups[*]}")" "$USER_NAME"
        else
            echo "    already exists"
        fi
        return 0
    fi
    run_live useradd --system --user-group --groups "$groups_csv" \
        --home-dir /var/lib/walkcoach --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
}

# --- 5. venv and the package -------------------------------------------------------------------
# A fingerprint of the sources pip installs: unchanged sources mean nothing to reinstall.
source_fingerprint() {
    (cd "$SRC" && find pyproject.toml device hostsync -type f \
        ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 2>/dev/null \
        | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

install_venv() {
    say "Python environment $VENV with walkcoach[pi] from $SRC"
    if [[ ! -x "$P$VENV/bin/python" ]]; then
        # System site packages give gpiozero the apt-installed lgpio pin driver.
        run_live python3 -m venv --system-site-packages "$VENV"
    fi
    local stamp="$P$PREFIX/installed-source.sha256" want
    want="$(source_fingerprint)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "    walkcoach already installed from these sources"
        return 0
    fi
    run_live "$VENV/bin/pip" install --disable-pip-version-check "${SRC}[pi]"
    NEEDS_RESTART=1
    if [[ $LIVE -eq 1 && $DRY_RUN -eq 0 ]]; then
        printf '%s\n' "$want" >"$stamp"
    fi
}

# --- 6-7. files, units -------------------------------------------------------------------------
install_files() {
    say "configuration and units"
    if [[ -e "$P$CONFIG_DIR/device.toml" ]]; then
        echo "    $CONFIG_DIR/device.toml exists: kept as is"
    else
        install_file "$HERE/device.toml" "$CONFIG_DIR/device.toml" 0644 || true
    fi
    if install_file "$HERE/usb-gadget.sh" "$PREFIX/bin/usb-gadget.sh" 0755; then NEEDS_RESTART=1; fi
    local doc
    for doc in README.md POWER.md wiring.svg 99-walkcoach.rules; do
        if [[ -f "$HERE/$doc" ]]; then install_file "$HERE/$doc" "$PREFIX/hardware/$doc" 0644 || true; fi
    done
    local unit units_changed=0
    for unit in "${UNITS[@]}"; do
        if install_file "$HERE/$unit" "$UNIT_DIR/$unit" 0644; then units_changed=1; fi
    done
    if [[ $units_changed -eq 1 ]]; then
        NEEDS_RESTART=1
        run_live systemctl daemon-reload
    fi
    # What `systemctl enable` does for WantedBy=multi-user.target, done on the files so that it
    # also works under --root (an SD card mounted on another machine).
    for unit in "${UNITS[@]}"; do
        ensure_symlink "$UNIT_DIR/$unit" "$UNIT_DIR/multi-user.target.wants/$unit" "enable $unit"
    done
    # What `systemctl mask` does: no login shell on the sync port, ever.
    ensure_symlink /dev/null "$UNIT_DIR/$GETTY_UNIT" "mask $GETTY_UNIT (no login shell on the sync port)"
}

# --- 8. check and start ------------------------------------------------------------------------
start_service() {
    say "self-test and start"
    local udc_count=0
    if [[ -d /sys/class/udc ]]; then
        udc_count="$(find /sys/class/udc -mindepth 1 -maxdepth 1 | wc -l)"
    fi
    if [[ $LIVE -eq 1 && ( ! -e /dev/i2c-1 || $udc_count -eq 0 ) ]]; then
        REBOOT_REASON="${REBOOT_REASON:-I2C (/dev/i2c-1) or the USB device controller is not active yet}"
    fi
    if [[ $LIVE -eq 1 && -n "${REBOOT_REASON:-}" ]]; then
        echo "    not started: $REBOOT_REASON"
        echo "    reboot (sudo reboot): the units start at boot. Then check with:"
        echo "      sudo -u $USER_NAME $VENV/bin/pedometer selftest --config $CONFIG_DIR/device.toml"
        return 0
    fi
    local selftest_ok=1
    if [[ $LIVE -eq 1 && $DRY_RUN -eq 0 ]]; then
        # The self-test needs the bus, pin and port the running service holds.
        systemctl stop pedometer.service || true
    fi
    if ! run_live runuser -u "$USER_NAME" -- "$VENV/bin/pedometer" selftest \
        --config "$CONFIG_DIR/device.toml"; then
        selftest_ok=0
    fi
    run_live systemctl start walkcoach-gadget.service
    if [[ $NEEDS_RESTART -eq 1 ]]; then
        run_live systemctl restart pedometer.service
    else
        run_live systemctl start pedometer.service
    fi
    if [[ $selftest_ok -eq 0 ]]; then
        die "pedometer selftest failed (output above); the service is installed and keeps retrying: check the wiring (hardware/README.md)"
    fi
}

REBOOT_REASON=""
say "Walk Coach install: source $SRC, root $ROOT$([[ $DRY_RUN -eq 1 ]] && echo ', dry run')"
configure_boot
configure_modules
install_packages
create_user
install_venv
install_files
start_service

if [[ $DRY_RUN -eq 1 ]]; then
    say "dry run: $CHANGES file change(s) would be made; nothing was changed"
elif [[ $CHANGES -eq 0 ]]; then
    say "already installed: no file changed"
else
    say "done: $CHANGES file change(s)"
fi
