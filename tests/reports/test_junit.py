"""The one JUnit writer: a suite's counts, a failure's message, kind and text, time only when known, no password."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from balance_bench.reports.junit import Failure, TestCase, junit_document


def test_a_suite_counts_its_failures_and_spells_each_case() -> None:
    """Two cases, one failed: counts, classname, name, time as given, system-out on the passed one, none redacted."""
    xml = junit_document("root", "suite", [
        TestCase("pkg.a", "first", 0.25, Failure("it broke", "finding", "line 1\nline 2")),
        TestCase("pkg.a", "second", output="all fine at postgresql://u:secret@db/x"),
        TestCase("pkg.b", "third")])
    assert xml.startswith("<?xml") and xml.endswith("</testsuites>\n") and "secret" not in xml
    root = ET.fromstring(xml)
    (suite,) = root.findall("testsuite")
    assert root.get("name") == "root"
    assert {k: suite.get(k) for k in ("name", "tests", "failures", "errors", "skipped")} == {
        "name": "suite", "tests": "3", "failures": "1", "errors": "0", "skipped": "0"}
    first, second, third = suite.findall("testcase")
    assert (first.get("classname"), first.get("name"), first.get("time")) == ("pkg.a", "first", "0.250000")
    failure = first.find("failure")
    assert failure is not None and (failure.get("message"), failure.get("type"), failure.text) == (
        "it broke", "finding", "line 1\nline 2")
    assert second.get("time") is None and second.find("system-out") is not None
    assert str(second.findtext("system-out")) == "all fine at postgresql://u:***@db/x"
    assert list(third) == []
