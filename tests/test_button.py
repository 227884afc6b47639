"""The button (real gpiozero on MockFactory pins) and the display controller (real luma dummy)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory
from luma.core.device import dummy
from PIL import ImageChops

from device.display.button import ButtonUnavailable, PressButton, connect_button
from device.display.controller import DisplayController
from device.display.render_all import SAMPLE_WALL, sample_progress, sample_status, screen_image
from device.status import DeviceStatus

PIN = 17
WALL = SAMPLE_WALL
STILL = dataclasses.replace(sample_status(), live_cadence_spm=0.0)  # not walking right now


class CountingDummy(dummy):
    """luma's dummy device, counting the frames and power commands actually sent to it."""

    def __init__(self) -> None:
        super().__init__(width=128, height=64, mode="1")
        self.frames = 0
        self.hides = 0
        self.shows = 0

    def display(self, image):
        self.frames += 1
        super().display(image)

    def hide(self) -> None:
        self.hides += 1
        super().hide()

    def show(self) -> None:
        self.shows += 1
        super().show()


def same_image(a, b) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    previous = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = previous


@pytest.fixture
def device() -> CountingDummy:
    return CountingDummy()


@pytest.fixture
def controller(device: CountingDummy) -> DisplayController:
    c = DisplayController(device, idle_timeout_s=20.0)
    c.update(sample_progress(), sample_status())
    return c


# --- the controller -------------------------------------------------------------------------


def test_first_tick_shows_week_screen_as_composed_through_the_viewport(controller, device) -> None:
    assert controller.tick(0.0, WALL) is True
    assert device.frames == 1 and controller.screen == "week"
    assert same_image(device.image, screen_image("week", sample_progress(), sample_status(), WALL))


def test_no_frame_when_nothing_changed(controller, device) -> None:
    controller.tick(0.0, WALL)
    for i in range(1, 50):
        controller.update(sample_progress(), sample_status())  # same facts again
        assert controller.tick(i * 0.1, WALL) is False
    assert device.frames == 1


def test_frame_only_when_what_is_shown_changes(controller, device) -> None:
    controller.tick(0.0, WALL)
    controller.open_screen("today")
    controller.tick(1.0, WALL)
    assert controller.screen == "today" and device.frames == 2
    # 108.4 -> 108.3 spm rounds to the same number on screen: no frame.
    controller.update(
        sample_progress(), dataclasses.replace(sample_status(), live_cadence_spm=108.3)
    )
    assert controller.tick(2.0, WALL) is False
    # Dropping below the threshold changes the number and removes the BRISK badge: one frame.
    slow = dataclasses.replace(sample_status(), live_cadence_spm=92.0)
    controller.update(sample_progress(), slow)
    assert controller.tick(3.0, WALL) is True
    assert device.frames == 3
    assert same_image(device.image, screen_image("today", sample_progress(), slow, WALL))


def test_changes_to_other_screens_send_nothing(controller, device) -> None:
    controller.tick(0.0, WALL)  # week screen does not show the cadence
    controller.update(sample_progress(), dataclasses.replace(sample_status(), live_cadence_spm=60))
    assert controller.tick(1.0, WALL) is False and device.frames == 1


def test_short_presses_cycle_the_screens(controller, device) -> None:
    controller.tick(0.0, WALL)
    seen = []
    for i in range(7):
        controller.short_press()
        controller.tick(1.0 + i, WALL)
        seen.append(controller.screen)
        assert same_image(
            device.image, screen_image(controller.screen, sample_progress(), sample_status(), WALL)
        )
    assert seen == ["days", "today", "plan", "status", "detail", "week", "days"]
    assert device.frames == 8


def test_sleeps_after_idle_time_and_short_press_wakes_to_week(controller, device) -> None:
    controller.update(sample_progress(), STILL)
    controller.tick(100.0, WALL)
    controller.short_press()
    controller.tick(101.0, WALL)  # today, last press at 101
    controller.tick(120.9, WALL)
    assert controller.awake and device.hides == 0
    controller.tick(121.0, WALL)
    assert not controller.awake and device.hides == 1
    frames = device.frames
    controller.update(sample_progress(), dataclasses.replace(STILL, threshold_spm=90))
    for t in range(122, 200):
        assert controller.tick(float(t), WALL) is False  # asleep: nothing is sent
    assert device.frames == frames and device.hides == 1
    controller.short_press()  # wakes, does not advance
    assert controller.tick(200.0, WALL) is True
    assert controller.awake and controller.screen == "week" and device.shows == 1


def test_waking_onto_an_unchanged_picture_sends_no_frame(controller, device) -> None:
    controller.update(sample_progress(), STILL)
    controller.tick(0.0, WALL)
    controller.tick(20.0, WALL)
    assert not controller.awake
    controller.short_press()
    assert controller.tick(30.0, WALL) is False  # the OLED kept its picture while off
    assert controller.awake and device.shows == 1 and device.frames == 1


def test_long_press_opens_pairing_and_calls_the_hook(device) -> None:
    calls = []

    def open_pairing() -> None:  # what the sync agent would do
        calls.append(1)
        controller.update(
            sample_progress(), dataclasses.replace(sample_status(), pairing_code="314159")
        )

    controller = DisplayController(device, on_long_press=open_pairing)
    controller.update(sample_progress(), sample_status())
    controller.tick(0.0, WALL)
    controller.long_press()
    controller.tick(1.0, WALL)
    assert calls == [1] and controller.screen == "pairing"
    shown = dataclasses.replace(sample_status(), pairing_code="314159")
    assert same_image(device.image, screen_image("pairing", sample_progress(), shown, WALL))
    assert device.frames == 2


def test_a_failing_hook_does_not_stop_the_display(device) -> None:
    def broken() -> None:
        raise RuntimeError("sync agent exploded")

    controller = DisplayController(device, on_long_press=broken)
    controller.tick(0.0, WALL)
    controller.long_press()
    assert controller.tick(1.0, WALL) is True and controller.screen == "pairing"


def test_pairing_code_from_host_wakes_display_and_keeps_it_on(controller, device) -> None:
    controller.tick(0.0, WALL)
    controller.tick(25.0, WALL)
    assert not controller.awake
    pairing = dataclasses.replace(sample_status(), pairing_code="271828")
    controller.update(sample_progress(), pairing)
    controller.tick(26.0, WALL)
    assert controller.awake and controller.screen == "pairing"
    controller.tick(200.0, WALL)
    assert controller.awake  # code still showing: no sleep
    controller.update(sample_progress(), dataclasses.replace(sample_status(), paired=True))
    controller.tick(201.0, WALL)
    assert controller.awake
    controller.tick(221.0, WALL)
    assert not controller.awake


def test_hundred_times_speed_simulation_sends_only_changes(device) -> None:
    """One simulated hour ticked every 0.1 s of simulated time, data changing every minute."""
    controller = DisplayController(device, idle_timeout_s=None)
    progress = sample_progress()
    sent = 0
    for step in range(36_000):
        now = step * 0.1
        if step % 600 == 0:
            progress = dataclasses.replace(progress, moderate_minutes=progress.moderate_minutes + 1)
        controller.update(progress, sample_status())
        sent += controller.tick(now, WALL + dt.timedelta(seconds=now))
    assert sent == device.frames == 60


def test_presses_from_many_threads_are_all_applied(controller, device) -> None:
    controller.tick(0.0, WALL)
    threads = [
        threading.Thread(target=lambda: [controller.short_press() for _ in range(25)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert controller.wait_for_input(0) is True
    controller.tick(1.0, WALL)
    assert controller.screen == "status"  # 100 presses, 6 screens in the cycle: 100 % 6 = 4
    assert controller.wait_for_input(0) is False


def test_a_press_while_walking_opens_walk_mode_which_stays_on_while_walking(device) -> None:
    controller = DisplayController(device, idle_timeout_s=20.0)
    controller.update(sample_progress(), STILL)
    controller.tick(0.0, WALL)
    controller.tick(20.0, WALL)
    assert not controller.awake
    walking = dataclasses.replace(sample_status(), live_cadence_spm=96.0)
    controller.update(sample_progress(), walking)
    controller.short_press()
    assert controller.tick(30.0, WALL) is True
    assert controller.screen == "walk"
    assert same_image(device.image, screen_image("walk", sample_progress(), walking, WALL))
    for t in range(31, 300):  # walking on: stays awake far beyond the 20 s idle time
        controller.tick(float(t), WALL)
    assert controller.awake
    brisk = dataclasses.replace(walking, live_cadence_spm=104.0)
    controller.update(sample_progress(), brisk)
    assert controller.tick(300.0, WALL) is True  # the cue changes to brisk at once
    controller.update(sample_progress(), STILL)  # the walk ends
    controller.tick(301.0, WALL)
    controller.tick(359.0, WALL)
    assert controller.awake  # walk mode waits 60 s after the walk
    controller.tick(361.0, WALL)
    assert not controller.awake
    controller.short_press()  # not walking now: the home screen
    controller.tick(362.0, WALL)
    assert controller.screen == "week"


def test_walk_mode_gives_up_after_its_longest_stay(device) -> None:
    from device.display.controller import WALK_IDLE_TIMEOUT_S, WALK_MAX_S

    controller = DisplayController(device, idle_timeout_s=20.0)
    controller.update(sample_progress(), sample_status())  # walking briskly
    controller.open_screen("walk")
    t = 0.0
    while controller.awake and t < 10 * WALK_MAX_S:
        controller.tick(t, WALL)
        t += 1.0
    assert WALK_MAX_S <= t <= WALK_MAX_S + WALK_IDLE_TIMEOUT_S + 2


def test_detail_pages_through_every_problem_in_full(device) -> None:
    troubled = dataclasses.replace(
        STILL, clock_trusted=False, sensor_problem="no IMU answers on the I2C bus at 0x6A or "
        "0x6B: check its wiring (SDA, SCL, 3V3, GND)", storage_problem="Storage full",
    )
    controller = DisplayController(device)
    controller.update(sample_progress(), troubled)
    controller.open_screen("detail")
    headings = []
    for i in range(4):
        controller.tick(float(i), WALL)
        view = controller._hotspots["detail"].view
        headings.append(view.heading if controller.screen == "detail" else controller.screen)
        if controller.screen == "detail":
            text = " ".join(view.lines)
            assert "…" not in text
        controller.short_press()
    assert headings == ["Problem 1 of 3", "Problem 2 of 3", "Problem 3 of 3", "week"]


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="idle timeout"):
        DisplayController(dummy(mode="1"), idle_timeout_s=0)
    with pytest.raises(ValueError, match="128x64"):
        DisplayController(dummy(width=128, height=32, mode="1"))
    with pytest.raises(ValueError, match="unknown screen"):
        DisplayController(dummy(mode="1")).open_screen("settings")


def test_open_screen_and_no_data_yet(device) -> None:
    controller = DisplayController(device)
    controller.open_screen("status")
    controller.tick(0.0, None)
    assert same_image(device.image, screen_image("status", None, DeviceStatus(), None))


def test_wall_clock_gives_relative_sync_time(device) -> None:
    controller = DisplayController(device, wall_clock=lambda: WALL)
    controller.update(sample_progress(), sample_status())
    controller.open_screen("status")
    controller.tick(0.0)
    assert same_image(
        device.image, screen_image("status", sample_progress(), sample_status(), WALL)
    )
    assert not same_image(
        device.image, screen_image("status", sample_progress(), sample_status(), None)
    )


# --- the button on gpiozero mock pins --------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.short = 0
        self.long = 0
        self.long_seen = threading.Event()

    def on_short(self) -> None:
        self.short += 1

    def on_long(self) -> None:
        self.long += 1
        self.long_seen.set()


def test_short_press_on_release(pins: MockFactory) -> None:
    rec = Recorder()
    pin = pins.pin(PIN)
    with PressButton(
        PIN, on_short=rec.on_short, on_long=rec.on_long, hold_time=2.0, min_press_s=0.0
    ):
        assert pin.state == 1  # pull-up: idle high
        pin.drive_low()
        assert rec.short == 0
        pin.drive_high()
        assert (rec.short, rec.long) == (1, 0)


def test_long_press_fires_once_while_held_and_release_is_not_a_short(pins: MockFactory) -> None:
    rec = Recorder()
    pin = pins.pin(PIN)
    with PressButton(PIN, on_short=rec.on_short, on_long=rec.on_long, hold_time=0.05):
        pin.drive_low()
        assert rec.long_seen.wait(2.0)
        pin.drive_high()
        assert (rec.short, rec.long) == (0, 1)


def test_contact_bounce_is_not_a_press(pins: MockFactory) -> None:
    rec = Recorder()
    times = iter([10.0, 10.002, 20.0, 20.2])
    pin = pins.pin(PIN)
    with PressButton(
        PIN, on_short=rec.on_short, on_long=rec.on_long, min_press_s=0.03, clock=lambda: next(times)
    ):
        pin.drive_low()
        pin.drive_high()  # 2 ms: bounce
        assert rec.short == 0
        pin.drive_low()
        pin.drive_high()  # 200 ms: a press
        assert rec.short == 1


def test_button_drives_the_controller(pins: MockFactory, device: CountingDummy) -> None:
    hook_calls = []
    controller = DisplayController(device, on_long_press=lambda: hook_calls.append(1))
    controller.update(sample_progress(), STILL)
    pin = pins.pin(PIN)
    # 0.5 s hold: a quick press stays a short press even on a busy CI machine
    button = connect_button(controller, PIN, hold_time=0.5, min_press_s=0.0)
    try:
        controller.tick(0.0, WALL)
        pin.drive_low()
        pin.drive_high()
        controller.tick(1.0, WALL)
        assert controller.screen == "days" and device.frames == 2
        controller.tick(30.0, WALL)
        assert not controller.awake
        pin.drive_low()
        pin.drive_high()
        controller.tick(31.0, WALL)
        assert controller.awake and controller.screen == "week" and device.frames == 3
        pin.drive_low()
        assert controller.wait_for_input(2.0)  # the hold thread queued the long press
        pin.drive_high()
        controller.tick(32.0, WALL)
        assert controller.screen == "pairing" and hook_calls == [1] and device.frames == 4
    finally:
        button.close()


def test_bad_pin_is_a_plain_error(pins: MockFactory) -> None:
    with pytest.raises(ButtonUnavailable, match="cannot use GPIO 99 for the button"):
        PressButton(99, on_short=lambda: None, on_long=lambda: None)


def test_close_releases_the_pin(pins: MockFactory) -> None:
    PressButton(PIN, on_short=lambda: None, on_long=lambda: None).close()
    PressButton(PIN, on_short=lambda: None, on_long=lambda: None).close()


def test_a_real_button_press_while_walking_opens_walk_mode(
    pins: MockFactory, device: CountingDummy
) -> None:
    controller = DisplayController(device, idle_timeout_s=20.0)
    controller.update(sample_progress(), STILL)
    button = connect_button(controller, PIN, hold_time=0.5, min_press_s=0.0)
    try:
        controller.tick(0.0, WALL)
        controller.tick(25.0, WALL)
        assert not controller.awake
        controller.update(sample_progress(), sample_status())  # 108 steps a minute now
        pin = pins.pin(PIN)
        pin.drive_low()
        pin.drive_high()
        controller.tick(30.0, WALL)
        assert controller.awake and controller.screen == "walk"
        assert same_image(device.image, screen_image("walk", sample_progress(), sample_status(),
                                                     WALL))
    finally:
        button.close()
