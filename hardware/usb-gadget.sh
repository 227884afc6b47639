#!/usr/bin/env bash
# Walk Coach USB gadget: one CDC-ACM serial function over configfs (libcomposite).
#
# On the Pi the port appears as /dev/ttyGS0; on the caregiver's laptop as /dev/ttyACM* (Linux),
# /dev/cu.usbmodem* (macOS) or a COM port (Windows). hostsync finds the device by its stable
# USB identity: idVendor 0x1d6b, idProduct 0x0104, product "Walk Coach Pedometer" and the
# serial number "WC-" + the last 8 hex digits of the Pi's CPU serial.
#
# Usage: usb-gadget.sh [--root DIR] [--dry-run] [--remove]
#   --root DIR  prefix for every system path (/sys/kernel/config, /sys/class/udc, /proc/cpuinfo,
#               /etc/machine-id, /etc/systemd/system); for tests and image building. Default /.
#   --dry-run   print what would change and change nothing.
#   --remove    unbind and delete the gadget.
# Idempotent: when the gadget is already set up as wanted it reports so and changes nothing.
# Exit status: 0 done (or nothing to do), 1 failure (message on stderr), 2 bad usage.
set -euo pipefail

readonly GADGET_NAME=walkcoach
readonly ID_VENDOR=0x1d6b
readonly ID_PRODUCT=0x0104
readonly MANUFACTURER="Walk Coach"
readonly PRODUCT="Walk Coach Pedometer"
readonly FUNCTION=acm.usb0
readonly CONFIG=c.1
readonly GETTY_UNIT=serial-getty@ttyGS0.service

ROOT=/
DRY_RUN=0
REMOVE=0
CHANGES=0

die() { printf 'usb-gadget: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --root)
            [[ $# -ge 2 && -n "$2" ]] || { echo "usb-gadget: --root needs a directory" >&2; exit 2; }
            ROOT="$2"; shift 2 ;;
        --root=*) ROOT="${1#--root=}"; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        --remove) REMOVE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "usb-gadget: unknown option: $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ -d "$ROOT" ]] || die "--root $ROOT is not a directory"
ROOT="$(cd "$ROOT" && pwd -P)"
P="${ROOT%/}"   # prefix for absolute paths: "" for the live system
LIVE=0
[[ "$ROOT" == / ]] && LIVE=1

CONFIGFS="$P/sys/kernel/config"
GADGETS="$CONFIGFS/usb_gadget"
G="$GADGETS/$GADGET_NAME"

# Record one change; in dry-run print it and tell the caller to skip the action.
change() {
    CHANGES=$((CHANGES + 1))
    if [[ $DRY_RUN -eq 1 ]]; then
        printf 'would %s\n' "$*"
        return 1
    fi
    printf '%s\n' "$*"
    return 0
}

# Current content of a file (empty when absent), without the trailing newline.
current() { if [[ -f "$1" ]]; then cat "$1"; fi; }

ensure_dir() {
    [[ -d "$1" ]] && return 0
    if change "create ${1#"$P"}"; then mkdir -p "$1"; fi
}

# Write VALUE to an attribute only if it differs (configfs refuses most writes while bound).
ensure_value() {
    local file="$1" value="$2"
    [[ "$(current "$file")" == "$value" ]] && return 0
    if change "set ${file#"$G"/} = $value"; then printf '%s\n' "$value" >"$file"; fi
}

# The device serial: "WC-" + last 8 hex digits of the CPU serial, else of /etc/machine-id.
device_serial() {
    local hex=""
    if [[ -r "$P/proc/cpuinfo" ]]; then
        hex="$(sed -n 's/^Serial[[:space:]]*:[[:space:]]*\([0-9a-fA-F]\{1,\}\)[[:space:]]*$/\1/p' \
            "$P/proc/cpuinfo" | head -n 1)"
    fi
    # Containers and some boards report no serial or all zeros: not unique, so fall back.
    if [[ -z "$hex" || "$hex" =~ ^0+$ ]]; then
        hex=""
        if [[ -r "$P/etc/machine-id" ]]; then
            hex="$(tr -cd '0-9a-fA-F' <"$P/etc/machine-id")"
        fi
    fi
    [[ ${#hex} -ge 8 ]] || die "no CPU serial in $P/proc/cpuinfo and no usable $P/etc/machine-id"
    hex="${hex: -8}"
    printf 'WC-%s\n' "${hex,,}"
}

# The first USB device controller (on a Pi Zero 2 W: 3f980000.usb, from dtoverlay=dwc2).
first_udc() {
    local udc_dir="$P/sys/class/udc" entry
    [[ -d "$udc_dir" ]] || return 0
    for entry in "$udc_dir"/*; do
        [[ -e "$entry" ]] || continue
        basename "$entry"
        return 0
    done
}

# What `systemctl mask` does: a /dev/null symlink in /etc/systemd/system, so no login shell
# (serial-getty) ever runs on the sync port.
ensure_getty_masked() {
    local link="$P/etc/systemd/system/$GETTY_UNIT"
    [[ -L "$link" && "$(readlink "$link")" == /dev/null ]] && return 0
    if change "mask $GETTY_UNIT (no login shell on the gadget port)"; then
        mkdir -p "$P/etc/systemd/system"
        ln -sfn /dev/null "$link"
        if [[ $LIVE -eq 1 ]] && command -v systemctl >/dev/null 2>&1; then
            systemctl daemon-reload || true
            systemctl stop "$GETTY_UNIT" 2>/dev/null || true
        fi
    fi
}

# configfs directories are removed with rmdir only (attribute files vanish with them); a fake
# tree under --root holds plain files, which are deleted first.
remove_dir() {
    local dir="$1"
    [[ -d "$dir" ]] || return 0
    if change "remove ${dir#"$P"}"; then
        if [[ $LIVE -eq 0 ]]; then
            # Attribute files and the kernel's default groups, which configfs removes by itself.
            find "$dir" -mindepth 1 -maxdepth 1 -type f -delete
            local sub
            for sub in strings configs functions os_desc webusb; do
                if [[ -d "$dir/$sub" ]]; then rmdir "$dir/$sub" 2>/dev/null || true; fi
            done
        fi
        rmdir "$dir"
    fi
}

remove_gadget() {
    if [[ ! -d "$G" ]]; then
        echo "usb-gadget: no $GADGET_NAME gadget configured: nothing to remove"
        return 0
    fi
    if [[ -n "$(current "$G/UDC")" ]]; then
        if change "unbind ${G#"$P"} from $(current "$G/UDC")"; then printf '\n' >"$G/UDC"; fi
    fi
    local link="$G/configs/$CONFIG/$FUNCTION"
    if [[ -L "$link" ]] && change "unlink ${link#"$P"}"; then rm "$link"; fi
    remove_dir "$G/configs/$CONFIG/strings/0x409"
    remove_dir "$G/configs/$CONFIG"
    remove_dir "$G/functions/$FUNCTION"
    remove_dir "$G/strings/0x409"
    remove_dir "$G"
    [[ $DRY_RUN -eq 1 ]] || echo "usb-gadget: removed the $GADGET_NAME gadget"
}

setup_gadget() {
    if [[ ! -d "$GADGETS" ]]; then
        if [[ $LIVE -eq 1 ]]; then
            if change "load the libcomposite module"; then modprobe libcomposite; fi
            if [[ $DRY_RUN -eq 0 ]] && ! mountpoint -q "$CONFIGFS"; then
                mount -t configfs none "$CONFIGFS"
            fi
        fi
        if [[ $DRY_RUN -eq 0 ]]; then
            [[ -d "$GADGETS" ]] || die "$GADGETS is missing: is configfs mounted and libcomposite loaded?"
        fi
    fi

    local serial udc
    serial="$(device_serial)"
    udc="$(first_udc)"

    ensure_dir "$G"
    local bound
    bound="$(current "$G/UDC")"

    # Every attribute, as path (relative to the gadget) and value.
    local -a attrs=(
        idVendor "$ID_VENDOR"
        idProduct "$ID_PRODUCT"
        bcdDevice 0x0100
        bcdUSB 0x0200
        # Miscellaneous class + Interface Association Descriptor: Windows binds usbser to it.
        bDeviceClass 0xef
        bDeviceSubClass 0x02
        bDeviceProtocol 0x01
        strings/0x409/serialnumber "$serial"
        strings/0x409/manufacturer "$MANUFACTURER"
        strings/0x409/product "$PRODUCT"
        "configs/$CONFIG/strings/0x409/configuration" "Walk Coach sync (CDC ACM)"
        "configs/$CONFIG/MaxPower" 250
    )
    local want_link="$G/functions/$FUNCTION"
    local link="$G/configs/$CONFIG/$FUNCTION"

    # configfs refuses changes while the gadget is bound: find out first, unbind only if needed.
    local needs_change=0 i
    for ((i = 0; i < ${#attrs[@]}; i += 2)); do
        [[ "$(current "$G/${attrs[i]}")" == "${attrs[i + 1]}" ]] || needs_change=1
    done
    [[ -d "$want_link" && -L "$link" ]] || needs_change=1
    if [[ $needs_change -eq 1 && -n "$bound" ]]; then
        if change "unbind from $bound to reconfigure"; then printf '\n' >"$G/UDC"; fi
        bound=""
    fi

    ensure_dir "$G/strings/0x409"
    ensure_dir "$G/configs/$CONFIG/strings/0x409"
    for ((i = 0; i < ${#attrs[@]}; i += 2)); do
        ensure_value "$G/${attrs[i]}" "${attrs[i + 1]}"
    done
    ensure_dir "$want_link"
    # configfs resolves link targets from the caller's directory: always use absolute paths.
    if [[ ! -L "$link" ]] && change "link ${want_link#"$P"} into configs/$CONFIG"; then
        ln -s "$want_link" "$link"
    fi

    ensure_getty_masked

    if [[ -z "$udc" ]]; then
        if [[ $DRY_RUN -eq 1 ]]; then
            echo "would fail: no USB device controller in $P/sys/class/udc"
        else
            die "no USB device controller in $P/sys/class/udc: is dtoverlay=dwc2 in config.txt (reboot after adding it)?"
        fi
    elif [[ "$bound" != "$udc" ]]; then
        if change "bind to USB device controller $udc"; then printf '%s\n' "$udc" >"$G/UDC"; fi
    fi

    if [[ $CHANGES -eq 0 ]]; then
        echo "usb-gadget: already configured (serial $serial on ${udc:-no UDC}): nothing to change"
    elif [[ $DRY_RUN -eq 1 ]]; then
        echo "usb-gadget: dry run: $CHANGES change(s) would be made"
    else
        echo "usb-gadget: configured serial $serial on $udc ($CHANGES change(s))"
    fi
}

if [[ $LIVE -eq 1 && $DRY_RUN -eq 0 && $EUID -ne 0 ]]; then
    die "must run as root (try: sudo $0)"
fi

if [[ $REMOVE -eq 1 ]]; then
    remove_gadget
else
    setup_gadget
fi
