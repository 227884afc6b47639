"""Contacts: which of a walking bout's gentler candidates are steps too.

The gait-sequence stage decides *that* someone walks from the clear, regular steps. Inside a
bout every step counts, including those that barely show at the hip: the first step of gait
initiation, the steps of a turn (the body pivots, the hip hardly rises), and the last step of
gait termination. These pure functions pick them from the candidates the bout held back, using
the bout's rhythm (typical interval) and strength (typical peak height):

* :func:`lead_in` - candidates just before the confirming run, gentle but in reach of it (not
  the weight shift that precedes gait initiation: early and gentle at once);
* :func:`fill_gap` - in a gap the rhythm left room for (a turn, a hesitation), the strongest
  gentle candidates, spaced like steps, as many as the rhythm has room for, chained in rhythm to
  the steps on either side (a lone bump in a standstill is not a step);
* :func:`turn_steps` - the peaks held while the wearer turned (a gyro says so): the chain of
  them closest to an even rhythm from the last step before the turn to the first one after it,
  since while the body pivots the hip's peaks are no guide to which of them are steps;
* :func:`in_rhythm` - the same when a turn has no end yet (a long curve, the bout ending):
  each candidate far enough from the previous step, in order;
* :func:`turn_lead_in` - the peaks held while the wearer turned (a gyro says so) before a bout's
  first step, chained back from it in rhythm: a bout starts only once clear steps show, after
  the turn;
* :func:`trailing` - after the bout's last clear step, gentle candidates that keep its rhythm
  (after a step that was already fading, the faint closing step of gait termination too).

Indices are grid cells; heights m/s². No state, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from device.core.params import DetectorParams
from device.core.peaks import Candidate


def lead_in(
    earlier: Sequence[Candidate], first: Candidate, interval_cells: float, height: float,
    rate_hz: float, p: DetectorParams,
) -> list[Candidate]:
    """Up to ``lead_in_steps`` candidates before ``first`` that are the bout's first steps."""
    lead: list[Candidate] = []
    nxt = first
    for c in reversed(earlier[len(earlier) - p.lead_in_steps :] if p.lead_in_steps else []):
        gap = nxt.index - c.index
        if not (p.rhythm_low * interval_cells <= gap <= p.lead_in_s * rate_hz):
            break
        if c.height < p.lead_in_height * height:
            break
        if gap < p.lead_in_gap * interval_cells and c.height < p.lead_in_early_height * height:
            break  # early and gentle: the weight shift before gait initiation, not a step
        lead.insert(0, c)
        nxt = c
    return lead


def fill_gap(
    weak: Sequence[Candidate], before: Candidate, after: Candidate, interval_cells: float,
    height: float, p: DetectorParams,
) -> list[Candidate]:
    """The gentle candidates between two steps of one bout that the rhythm says are steps."""
    expected = round((after.index - before.index) / interval_cells) - 1
    chosen: list[Candidate] = []
    for c in sorted(weak, key=lambda c: -c.height):
        if len(chosen) >= expected or c.height < p.fill_height * height:
            break
        if all(abs(c.index - o.index) >= p.fill_spacing * interval_cells
               for o in (before, after, *chosen)):
            chosen.append(c)
    chosen.sort(key=lambda c: c.index)
    # Steps keep walking's rhythm from one to the next: only those chained to the bout's steps
    # on either side (no interval over rhythm_high) count; a lone bump in a standstill does not.
    reach = p.rhythm_high * interval_cells
    linked: set[int] = set()
    prev = before
    for c in chosen:
        if c.index - prev.index > reach:
            break
        linked.add(id(c))
        prev = c
    nxt = after
    for c in reversed(chosen):
        if nxt.index - c.index > reach:
            break
        linked.add(id(c))
        nxt = c
    return [c for c in chosen if id(c) in linked]


def turn_steps(
    held: Sequence[Candidate], before: Candidate, after: Candidate, interval_cells: float,
    p: DetectorParams,
) -> list[Candidate]:
    """Of the candidates between ``before`` and ``after``, those whose chain from one to the
    other keeps closest to ``interval_cells`` (least sum of squared log ratios to it, so that an
    interval half again as long costs what one two-thirds as long does, and a long pivot is not
    split by the bump in its middle; none closer than ``rhythm_low`` x it). Dynamic programming
    over a turn's few candidates."""
    points = [before, *(c for c in held if before.index < c.index < after.index), after]
    cost = [0.0] + [float("inf")] * (len(points) - 1)
    back = [-1] * len(points)
    for j in range(1, len(points)):
        for i in range(j):
            gap = points[j].index - points[i].index
            if gap < p.rhythm_low * interval_cells or cost[i] == float("inf"):
                continue
            c = cost[i] + math.log(gap / interval_cells) ** 2
            if c < cost[j]:
                cost[j], back[j] = c, i
    chain: list[Candidate] = []
    j = back[-1]
    while j > 0:
        chain.append(points[j])
        j = back[j]
    return chain[::-1]


def turn_lead_in(
    held: Sequence[Candidate], first: Candidate, interval_cells: float, height: float,
    p: DetectorParams,
) -> list[Candidate]:
    """Of the peaks held while the wearer turned before a bout's first step, those chained to
    it in rhythm: back from ``first``, each time the peak whose interval to the next step keeps
    closest to ``turn_slower`` x the rhythm (``fill_spacing``-``rhythm_high`` x it, at least
    ``fill_height`` x the typical peak). A bout starts only once the clear steps after a turn
    show; the turn's own steps, gentle at the hip, came before them."""
    target = p.turn_slower * interval_cells
    steps: list[Candidate] = []
    nxt = first
    while True:
        fits = [c for c in held if c.index < nxt.index
                and p.fill_spacing * interval_cells <= nxt.index - c.index
                <= p.rhythm_high * interval_cells and c.height >= p.fill_height * height]
        if not fits:
            return steps
        nxt = min(fits, key=lambda c: abs(math.log((nxt.index - c.index) / target)))
        steps.insert(0, nxt)


def in_rhythm(
    held: Sequence[Candidate], before: Candidate, interval_cells: float, p: DetectorParams,
) -> list[Candidate]:
    """Candidates after ``before``, in order, each at least ``fill_spacing`` x the rhythm after
    the previous step."""
    steps: list[Candidate] = []
    prev = before
    for c in held:
        if c.index - prev.index < p.fill_spacing * interval_cells:
            continue
        steps.append(c)
        prev = c
    return steps


def trailing(
    held: Sequence[Candidate], last: Candidate, interval_cells: float, height: float,
    p: DetectorParams,
) -> list[Candidate]:
    """Up to ``trail_steps`` gentle candidates after ``last`` that keep the bout's rhythm."""
    steps: list[Candidate] = []
    prev = last
    for c in held:
        if len(steps) >= p.trail_steps:
            break
        gap = c.index - prev.index
        if gap < p.fill_spacing * interval_cells:
            continue
        # Gait termination fades over two steps: after a gentle step, the closing one may
        # barely show (a few hundredths of the typical peak at the lower back). So may a
        # closing step after a clear one; that one is short and comes early (0.7-0.95 x the
        # rhythm in the IPOL trials), where a filter's or a body's settling after an abrupt
        # stop comes a full rhythm or more after the last step.
        floor = p.trail_height
        if p.trail_fade_height > 0 and (prev.height < p.trail_fade * height
                                        or gap <= p.trail_close * interval_cells):
            floor = p.trail_fade_height
        if gap > p.trail_gap * interval_cells or c.height < floor * height:
            break
        steps.append(c)
        prev = c
    return steps

