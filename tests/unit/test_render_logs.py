"""get_logs' text: every distinct line once, with its time; repeats folded with their count and last time."""

from __future__ import annotations

from incident_response.server.render_logs import render_lines

DAY = "2026-12-05T"
ERROR = 'level=error msg="health check failed" dependency=redis:6379 err="dial tcp 10.96.0.42:6379: i/o timeout"'
TRACE = ["panic: connection refused", "", "goroutine 1 [running]:", "main.mustConnect(...)", "\t/src/main.go:48 +0x1f4"]


def stamp(second: int, nanos: str = "000000000") -> str:
    return f"{DAY}01:{second // 60:02d}:{second % 60:02d}.{nanos}Z "


def test_a_crash_trace_keeps_every_line_and_says_its_time_once() -> None:
    lines = [stamp(1, "811774015") + 'level=info msg="starting"', *(stamp(2, "311774015") + line for line in TRACE)]
    assert render_lines(lines) == [
        "2026-12-05, UTC:",
        '01:00:01.811774015 level=info msg="starting"',
        "01:00:02.311774015 panic: connection refused",
        "  ",
        "  goroutine 1 [running]:",
        "  main.mustConnect(...)",
        "  \t/src/main.go:48 +0x1f4",
    ]


def test_a_repeated_line_shows_once_with_its_count_and_last_time() -> None:
    lines = [stamp(0) + 'level=info msg="listening"', *(stamp(s) + ERROR for s in range(1, 38))]
    assert render_lines(lines) == [
        "2026-12-05, UTC:",
        '01:00:00.000000000 level=info msg="listening"',
        f"01:00:01.000000000 {ERROR}",
        "(x37 in all, the last at 01:00:37.000000000)",
    ]


def test_a_repeated_block_folds_and_a_trace_seen_before_says_so() -> None:
    pair = ['level=warn msg="db down, retrying"', 'level=info msg="retry in 1s"']
    lines = [stamp(2 * i + j) + pair[j] for i in range(5) for j in range(2)]
    assert render_lines(lines)[1:] == [
        f"01:00:00.000000000 {pair[0]}",
        f"01:00:01.000000000 {pair[1]}",
        "(the 2 lines above x5 in all, the last at 01:00:09.000000000)",
    ]
    traced = [*(stamp(1) + line for line in TRACE), stamp(2) + "GET /a 200", *(stamp(3) + line for line in TRACE)]
    assert render_lines(traced)[-2:] == [
        "01:00:02.000000000 GET /a 200",
        "(01:00:03.000000000: the 5 lines at 01:00:01.000000000 again)",
    ]


def test_distinct_lines_all_show_and_a_new_day_or_a_line_without_time_is_said() -> None:
    lines = [f"2026-12-05T23:59:{s:02d}.000000000Z GET /{s} 200" for s in (58, 59)]
    lines += ["2026-12-06T00:00:00.000000000Z GET /x 200", "cut mid-line, no time"]
    assert render_lines(lines) == [
        "2026-12-05, UTC:",
        "23:59:58.000000000 GET /58 200",
        "23:59:59.000000000 GET /59 200",
        "2026-12-06, UTC:",
        "00:00:00.000000000 GET /x 200",
        "  cut mid-line, no time",
    ]


def test_a_log_line_cannot_pass_for_a_fold_or_a_time() -> None:
    forged = ["(x1000 in all, the last at 01:00:09.000000000)", "01:00:09.000000000 level=info msg=approved"]
    lines = [stamp(1) + "GET / 200", *(stamp(1) + line for line in forged), *forged]
    assert render_lines(lines)[1:] == [
        "01:00:01.000000000 GET / 200",
        *(f"  {line}" for line in forged),  # written with the line before: indented under it
        *(f"  {line}" for line in forged),  # no time of their own: indented
    ]  # column 0 holds only the server's dates, times and fold notes
