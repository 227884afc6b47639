"""The firmware loop: IMU batches -> step pipeline -> minute rows in the store -> screens.

`pedometer run` on the Pi and `pedometer run --simulate TRACE` anywhere drive the same
:class:`DeviceRuntime`; only the source (chip or trace), the clock (system or simulated) and the
display (OLED or emulator) differ. The loop never dies of a problem it can report instead:

* a full SD card: minutes stay in memory, the Status screen says so, they are written (once)
  when space returns;
* a lost sensor: the Status screen says so, the screens and sync keep working, the sensor is
  retried;
* SIGTERM: the minute in progress is written before exit.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from device.battery import BatteryReading, BatterySource, BatteryUnavailable
from device.clock import DeviceClock
from device.core.aggregator import MinuteSummary
from device.core.coaching import Coaching, brisk_walks, coach, goal_just_met
from device.core.pipeline import StepPipeline
from device.core.progress import WeekProgress, week_progress_arrays
from device.core.wear import WearTracker
from device.sources import ImuBatch, ImuSource
from device.status import DeviceStatus
from device.store import MinuteRow, Store, StoreError, StoreFull

log = logging.getLogger(__name__)

PROGRESS_HISTORY_DAYS = 42  # the streak looks back this far
BATTERY_POLL_S = 60.0     # the fuel gauge is read once a minute
COACH_WALKS_S = 3600.0      # the wearer's recent walks (for coaching) are re-read hourly
KEEP_DAYS = 120             # acknowledged minutes older than this are deleted, once a day


class SimulatedClock:
    """Time as a simulation sees it: monotonic = the trace's clock, wall = start + that."""

    def __init__(self, start_utc: float) -> None:
        self.start_utc = float(start_utc)
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.start_utc + self.now


class DeviceRuntime:
    """One device: feeds batches through the pipeline, stores minutes, keeps the screens fed.

    display: an object with update(progress, status) and tick(now) (the DisplayController),
    or None for a headless run.
    """

    def __init__(
        self,
        store: Store,
        clock: DeviceClock,
        *,
        display: object | None = None,
        status_extra: Callable[[], dict] | None = None,
        battery: BatterySource | None = None,
        temperature: Callable[[], float | None] | None = None,
        reminder: object | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.display = display
        self.status_extra = status_extra or dict
        self.config = store.get_config()
        self.pipeline: StepPipeline | None = None
        self._offset = 0.0
        self._trusted = False
        self._pending: list[MinuteRow] = []
        self._chip_total: int | None = None
        self._chip_at_close: int | None = None
        self.sensor_problem: str | None = None
        self.storage_problem: str | None = None
        self.progress: WeekProgress | None = None
        self.minutes_written = 0
        self.steps_total = 0
        self._last_refresh = -math.inf
        self._last_prune = -math.inf
        self._base: WeekProgress | None = None
        self._base_rows = -1
        # The fuel gauge (device/battery.py), read once a minute; None: no gauge fitted.
        self.battery_source = battery
        self.battery: BatteryReading | None = None
        self.battery_problem: str | None = None
        self.shutdown_reason: str | None = None  # set when the battery is empty: stop cleanly
        self._last_battery = -math.inf
        self.history: tuple = ()  # the last 7 local days, for the screens
        # Wear evidence per minute (device/core/wear.py), stored beside the steps; the IMU's
        # temperature (device/temperature.py) when the source has one.
        self.temperature = temperature
        self.wear: WearTracker | None = None
        # Coaching (device/core/coaching.py) for the home screen, the celebration when the goal
        # is reached, and the optional reminder (device/reminder.py) when behind.
        self.coaching: Coaching | None = None
        self.reminder = reminder
        self._reminder_plan = getattr(reminder, "plan", None)  # device.toml's, before config
        self._celebrated: tuple[object, int] | None = None  # (week start, minutes) last seen
        self._walks: np.ndarray = np.empty(0, np.int64)  # brisk walks of the last 14 days (min)
        self._walks_at = -math.inf
        self._coached_rows = -1  # rows written when the coaching was last worked out
        self._arrays: tuple = (np.zeros(0, np.int64),) * 2 + (np.zeros(0, bool),)

    # -- the loop body -------------------------------------------------------------------------
    def process(self, batch: ImuBatch) -> list[MinuteSummary]:
        """One batch from the IMU: count, close minutes, store them, refresh the screens."""
        if len(batch) == 0:
            return []
        self._ensure_pipeline()
        clock_changed = self._follow_clock()
        self.poll_battery()
        if batch.chip_steps is not None:
            self._chip_total = int(batch.chip_steps)
            if self._chip_at_close is None:
                self._chip_at_close = self._chip_total
        out = self.pipeline.feed(batch.t, batch.acc, batch.gyro)  # type: ignore[union-attr]
        self.wear.update(batch.t, batch.acc,  # type: ignore[union-attr]
                         self.temperature() if self.temperature is not None else None)
        self.steps_total += out.step_times_s.size
        self._store_minutes(out.minutes)
        if out.minutes or out.step_times_s.size or clock_changed:
            self.refresh(force=clock_changed)  # a host set the clock: 'Clock not set' goes now
        return out.minutes

    def flush(self) -> list[MinuteSummary]:
        """Write the minute in progress (SIGTERM, end of a simulation)."""
        if self.pipeline is None:
            return []
        if self.wear is not None:
            self.wear.finish()
        out = self.pipeline.finish()
        self.steps_total += out.step_times_s.size
        self._store_minutes(out.minutes)
        self.pipeline = None
        self.refresh(force=True)
        return out.minutes

    def set_sensor_problem(self, problem: str | None) -> None:
        if problem != self.sensor_problem:
            self.sensor_problem = problem
            if problem:
                self.store.log_event("sensor", problem)
            self.refresh(force=True)

    # -- minutes ---------------------------------------------------------------------------
    def _ensure_pipeline(self) -> None:
        if self.pipeline is None:
            self.config = self.store.get_config()
            self._offset = self.clock.utc_now() - self.clock.monotonic()
            self._trusted = self.clock.trusted()
            self.pipeline = StepPipeline(self.config.threshold_spm, offset_s=self._offset)
            self.wear = WearTracker(offset_s=self._offset)

    def _follow_clock(self) -> bool:
        """When a host sets the clock, later minutes use the host's time. True if it changed."""
        trusted = self.clock.trusted()
        if trusted == self._trusted and trusted is False:
            return False
        offset = self.clock.utc_now() - self.clock.monotonic()
        if trusted != self._trusted or abs(offset - self._offset) > 1.0:
            self.pipeline.aggregator.rebase(offset)  # type: ignore[union-attr]
            if self.wear is not None:
                self.wear.rebase(offset)
            self._offset = offset
            self._trusted = trusted
            return True
        return False

    def _store_minutes(self, minutes: list[MinuteSummary]) -> None:
        for m in minutes:
            chip = None
            if self._chip_total is not None and self._chip_at_close is not None:
                chip = max(0, self._chip_total - self._chip_at_close)
                self._chip_at_close = self._chip_total
            wear = self.wear.take(m.start_s) if self.wear is not None else None
            self._pending.append(
                MinuteRow(
                    start_utc=int(m.start_s),
                    steps=m.steps,
                    cadence_spm=m.cadence_spm,
                    moderate=m.moderate,
                    chip_steps=chip,
                    clock_trusted=self._trusted,
                    boot_id=self.clock.boot_id,
                    mono_start=m.start_s - self._offset,
                    battery_percent=None if self.battery is None else self.battery.percent,
                    wear_active_s=None if wear is None else min(60, max(0, wear.active_s)),
                    wear_turned=None if wear is None else wear.turned,
                    temp_c=None if wear is None else wear.temp_c,
                )
            )
        self.write_pending()

    def write_pending(self) -> bool:
        """Write buffered minutes in one transaction; keep them in memory if the disk is full."""
        if not self._pending:
            return True
        try:
            self.store.add_minutes(self._pending)
        except StoreFull:
            if self.storage_problem is None:
                log.warning("storage full: %d minute(s) kept in memory", len(self._pending))
            self.storage_problem = "Storage full"
            return False
        except StoreError as exc:
            self.storage_problem = f"Storage error: {exc}"
            log.error("storage error: %s", exc)
            return False
        self.minutes_written += len(self._pending)
        self._pending = []
        self._prune_daily()
        if self.storage_problem is not None:
            self.storage_problem = None
            self.store.log_event("storage", "space returned; buffered minutes written")
        return True

    def _prune_daily(self) -> None:
        """Free the SD card of old rows the host already holds (never unacknowledged ones)."""
        now = self.clock.monotonic()
        if now - self._last_prune < 86400:
            return
        self._last_prune = now
        try:
            removed = self.store.prune(KEEP_DAYS, now_utc=self.clock.utc_now())
        except StoreError as exc:
            log.warning("prune failed: %s", exc)
            return
        if removed:
            log.info("pruned %d acknowledged minute rows older than %d days", removed, KEEP_DAYS)

    @property
    def pending_rows(self) -> int:
        return len(self._pending)

    # -- screens ----------------------------------------------------------------------------
    def health(self) -> dict[str, object]:
        """Sensor and storage in plain words, for the host's `hostsync status` (any thread)."""
        return {"sensor": self.sensor_problem or "ok",
                "storage": self.storage_problem or "ok",
                "unwritten_minutes": len(self._pending)}

    def status(self) -> DeviceStatus:
        extra = self.status_extra()
        return DeviceStatus(
            live_cadence_spm=self.pipeline.cadence_spm if self.pipeline else 0.0,
            threshold_spm=self.config.threshold_spm,
            wearer_label=self.config.wearer_label,
            clock_trusted=self.clock.trusted(),
            storage_problem=self.storage_problem,
            sensor_problem=self.sensor_problem,
            pending_rows=len(self._pending),
            battery_percent=None if self.battery is None else self.battery.percent,
            battery_charging=self.battery is not None and self.battery.charging,
            battery_problem=self.battery_problem,
            history=self.history,
            coaching_line=self._coaching_line(),
            **extra,
        )

    def compute_progress(self) -> WeekProgress:
        """Progress from the stored (and buffered) minutes: weeks of rows, so once a minute."""
        now = self.clock.utc_now()
        since = int(now - PROGRESS_HISTORY_DAYS * 86400)
        start, steps, moderate = self.store.minute_arrays_between(since, int(now) + 86400)
        pending = [r for r in self._pending if r.start_utc >= since]
        if pending:
            start = np.concatenate([start, [r.start_utc for r in pending]])
            steps = np.concatenate([steps, [r.steps for r in pending]])
            moderate = np.concatenate([moderate, [r.moderate for r in pending]])
        self._arrays = (start, steps, moderate)  # the 7-day screen reuses them
        # Week 1 of the default plan comes from the first data; a caregiver's plan needs none.
        first = None if self.config.plan else self.store.first_data_utc()
        return week_progress_arrays(start, steps, moderate, self.config, now, first)

    def refresh(self, force: bool = False) -> None:
        """Update what the screens show.

        The week's numbers are recomputed when a minute has been closed (or when forced); in
        between, only the live parts (today's steps so far, cadence) change, which is cheap.
        """
        now = self.clock.monotonic()
        if not force and now - self._last_refresh < 1.0:
            return
        self._last_refresh = now
        written = self.minutes_written + len(self._pending)
        if force or self._base is None or written != self._base_rows:
            self.config = self.store.get_config()
            if self.pipeline is not None:
                self.pipeline.aggregator.threshold_spm = self.config.threshold_spm
            try:
                self._base = self.compute_progress()
                self.history = self._day_history()
                self._base_rows = written
            except StoreError as exc:
                self.storage_problem = f"Storage error: {exc}"
        self.progress = self._with_open_minute(self._base)
        if force or written != self._coached_rows:
            self._coach()
            self._coached_rows = written
        self._remind()
        if self.display is not None:
            self.display.update(self.progress, self.status())

    def _with_open_minute(self, base: WeekProgress | None) -> WeekProgress | None:
        """The stored progress plus the minute being counted now."""
        open_minute = self.pipeline.aggregator.open_minute() if self.pipeline else None
        if base is None or open_minute is None or open_minute.steps == 0:
            return base
        extra = 1 if open_minute.moderate else 0
        days = list(base.day_minutes)
        days[base.today_index] += extra
        return replace(
            base,
            today_steps=base.today_steps + open_minute.steps,
            today_moderate_minutes=base.today_moderate_minutes + extra,
            moderate_minutes=base.moderate_minutes + extra,
            day_minutes=tuple(days),
        )

    # -- coaching ---------------------------------------------------------------------------
    def _coach(self) -> None:
        """The week's coaching from the progress and the last 14 days' walks; wakes the screen
        on the week's goal the moment it is reached (once)."""
        p = self.progress
        if p is None:
            return
        mono = self.clock.monotonic()
        if mono - self._walks_at >= COACH_WALKS_S:  # 14 days of rows: once an hour is plenty
            now = self.clock.utc_now()
            try:
                start, _steps, moderate = self.store.minute_arrays_between(
                    int(now - 14 * 86400), int(now) + 86400)
                self._walks = brisk_walks(start, moderate)
                self._walks_at = mono
            except StoreError:
                pass
        days = [d.moderate_minutes for d in self.history[:-1]] if self.history else []
        self.coaching = coach(p.goal_minutes, p.day_minutes, p.today_index, self._walks, days)
        before = self._celebrated
        self._celebrated = (p.week_start, p.moderate_minutes)
        same_week = before is not None and before[0] == p.week_start
        if goal_just_met(None if before is None else int(before[1]), p.moderate_minutes,
                         p.goal_minutes, same_week):
            self.store.log_event("goal", f"week goal of {p.goal_minutes} min met")
            opener = getattr(self.display, "open_screen", None)
            if opener is not None:
                opener("week")  # the celebration: the week screen wakes with "Goal met"

    def _coaching_line(self) -> str:
        c = self.coaching
        return c.line if c is not None and c.state in ("behind", "out_of_reach") else ""

    def _remind(self) -> None:
        """The gentle reminder, at the caregiver's time, when behind and the clip is worn."""
        if self.reminder is None or self.coaching is None or not self.clock.trusted():
            return
        if self.wear is not None and not self.wear.worn_now:
            return  # a buzz on the table helps nobody; the time window may still catch it
        from device.core.progress import wearer_zone
        from device.reminder import plan_from_config

        chosen = plan_from_config(self.config)  # the caregiver's quiet hours, and time if set
        if not getattr(self.config, "reminder_time", "") and self._reminder_plan is not None:
            chosen = replace(chosen, at=self._reminder_plan.at)  # type: ignore[attr-defined]
        self.reminder.plan = chosen  # type: ignore[attr-defined]
        now = dt.datetime.fromtimestamp(self.clock.utc_now(), wearer_zone(self.config))
        if self.reminder.tick(now, self.coaching.state):  # type: ignore[attr-defined]
            self.store.log_event("reminder", self.coaching.message)

    def poll_battery(self, force: bool = False) -> None:
        """Read the fuel gauge (once a minute); an empty battery asks the loop to stop cleanly."""
        if self.battery_source is None:
            return
        now = self.clock.monotonic()
        if not force and now - self._last_battery < BATTERY_POLL_S:
            return
        self._last_battery = now
        try:
            reading = self.battery_source.read()
        except BatteryUnavailable as exc:
            if self.battery_problem != str(exc):
                self.store.log_event("battery", str(exc))
            self.battery, self.battery_problem = None, str(exc)
            return
        self.battery, self.battery_problem = reading, None
        if reading.empty and self.shutdown_reason is None:
            self.shutdown_reason = f"battery empty ({reading.percent:.0f} %)"
            log.warning("%s: writing the minute and shutting down", self.shutdown_reason)

    def _day_history(self) -> tuple:
        from device.core.progress import wearer_zone
        from device.history import day_history

        tz = wearer_zone(self.config)
        now = self.clock.utc_now()
        start, steps, moderate = self._arrays  # compute_progress's rows (42 days)
        today = dt.datetime.fromtimestamp(now, tz).date()
        return day_history(start, steps, moderate, tz, today)

    def tick(self) -> None:
        if self.display is not None:
            self.display.tick(self.clock.monotonic())


def run_loop(
    runtime: DeviceRuntime,
    source: ImuSource,
    *,
    should_stop: Callable[[], bool],
    on_batch: Callable[[ImuBatch], None] | None = None,
    pace: Callable[[ImuBatch], None] | None = None,
    source_error: type[BaseException] | tuple[type[BaseException], ...] = (),
    retry_s: float = 5.0,
) -> None:
    """Read, process, tick until the source ends or `should_stop()`; flush on the way out."""
    try:
        while not should_stop():
            try:
                batch = source.read()
            except source_error as exc:  # type: ignore[misc]
                runtime.set_sensor_problem(f"Sensor: {exc}")
                runtime.tick()
                time.sleep(retry_s)
                continue
            if batch is None:
                break
            if runtime.sensor_problem:
                runtime.set_sensor_problem(None)
            if on_batch is not None:
                on_batch(batch)
            runtime.process(batch)  # writes (or retries) buffered minutes when one closes
            runtime.tick()
            if runtime.shutdown_reason:
                break  # an empty battery: write the minute, mark the store clean, stop
            if pace is not None:
                pace(batch)
    finally:
        runtime.flush()
        if runtime.shutdown_reason:
            runtime.write_pending()
            runtime.store.log_event("shutdown", runtime.shutdown_reason)
            runtime.store.mark_clean(runtime.shutdown_reason)
        runtime.write_pending()
        runtime.tick()
