"""JUnit XML, the one shape every CI test view reads: written here for the regression gate and for ``check`` alike.

Each writer decides what its test cases are and why one failed (``gate_document``: a gated case that regressed;
``check_document``: a case with a finding or a counter regression); this module only spells the XML, one suite in
one ``testsuites`` root, indented, with every URL password redacted.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from balance_bench.errors import redact

__all__ = ["Failure", "TestCase", "junit_document"]


@dataclass(frozen=True)
class Failure:
    """Why a test case failed: a one-line message, its kind (``type``), and the lines that tell it in full."""

    message: str
    kind: str
    text: str


@dataclass(frozen=True)
class TestCase:
    """One JUnit test case: failed when it has a ``failure``, else passed with ``output`` as its system-out."""

    __test__ = False  # not a pytest test class, whatever its name

    classname: str
    name: str
    seconds: float | None = None
    failure: Failure | None = None
    output: str | None = None


def junit_document(root: str, suite: str, cases: Sequence[TestCase]) -> str:
    """The XML text of one suite named ``suite`` under a ``testsuites`` root named ``root``."""
    failed = sum(case.failure is not None for case in cases)
    element = ET.Element("testsuite", name=suite, tests=str(len(cases)), failures=str(failed), errors="0",
                         skipped="0")
    for case in cases:
        attributes = {"classname": case.classname, "name": case.name}
        if case.seconds is not None:
            attributes["time"] = f"{case.seconds:.6f}"
        test = ET.SubElement(element, "testcase", attributes)
        if case.failure is not None:
            failure = ET.SubElement(test, "failure", message=case.failure.message, type=case.failure.kind)
            failure.text = case.failure.text
        elif case.output is not None:
            ET.SubElement(test, "system-out").text = case.output
    top = ET.Element("testsuites", name=root)
    top.append(element)
    ET.indent(top)
    return redact(ET.tostring(top, encoding="unicode", xml_declaration=True)) + "\n"
