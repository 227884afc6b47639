"""Who the host talks to: the device id, and the store (history) that device holds now.

Why a store id: the device id comes from the Pi's serial, but a re-flashed card restarts its
row numbers at 1, so (device id, seq) alone would make the host skip or double-count minutes.
Each store gets a random id when first used; the host keys rows by (device, store, seq), so a
new store is a new history. The store is bound to the board it was made on: a card moved or
cloned to another Pi gets a new device id and store id, forgets its pairing (it must be paired
again) and forgets which rows were acknowledged, so nothing is pruned before a host has it.
All of it lives in the store's meta table.
"""

from __future__ import annotations

import logging
import secrets

from device.store import META_ACKNOWLEDGED, Store

log = logging.getLogger(__name__)

META_DEVICE_ID = "device_id"
META_STORE_ID = "store_id"
META_STORE_LEGACY = "store_legacy"  # "1": the store held rows before it had an id (an upgrade)
META_BOARD = "board_serial"
META_SECRET = "sync_secret"


def store_id(store: Store) -> str:
    """This store's id, made on first use. A store that already held rows gets the legacy mark,
    so the host can keep its pre-upgrade history as this store's."""
    existing = store.get_meta(META_STORE_ID)
    if existing:
        return existing
    legacy = store.last_seq() > 0 or store.acknowledged_seq() > 0
    made = store.set_meta_once(META_STORE_ID, secrets.token_hex(16))
    if legacy:
        store.set_meta(META_STORE_LEGACY, "1")
    return made


def store_is_legacy(store: Store) -> bool:
    return store.get_meta(META_STORE_LEGACY) == "1"


def device_id_for(board_serial: str | None) -> str:
    """WC- and the serial's last 8 hex digits (the USB serial number); random without one."""
    return f"WC-{board_serial[-8:].upper()}" if board_serial else \
        f"WC-{secrets.token_hex(4).upper()}"


def bind_to_board(store: Store, board_serial: str | None) -> str:
    """The device id for this store on this board; a new identity if the board changed."""
    board = board_serial or ""
    existing = store.get_meta(META_DEVICE_ID)
    bound = store.get_meta(META_BOARD)
    # an unreadable serial (board "") never counts as another board: it would unpair the device
    if existing and (bound is None or bound == board or not board):
        if bound is None and board:  # made before boards were recorded: it was made here
            store.set_meta(META_BOARD, board)
        store_id(store)
        return existing
    device_id = device_id_for(board_serial)
    if existing:  # moved or cloned to another board: a new device with a new history
        log.warning("store %s was made on another board: new identity %s; pair again",
                    store.path, device_id)
        store.set_meta(META_SECRET, None)
        store.set_meta(META_ACKNOWLEDGED, "0")
        store.set_meta(META_STORE_LEGACY, None)
        store.set_meta(META_STORE_ID, None)
        store.log_event("sync", f"card moved to another board: now {device_id}, not paired")
    store.set_meta(META_BOARD, board)
    store.set_meta(META_DEVICE_ID, device_id)
    store_id(store)
    if existing:
        store.set_meta(META_STORE_LEGACY, None)  # its rows are this new identity's from seq 1
    return device_id
