"""`outreach archive verify BAG`: completeness and every checksum (SHA-256 and SHA-512), naming each
missing, altered or unexpected file. The CLI exits non-zero when `VerifyReport.ok` is False."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import bagit

REQUIRED_ALGORITHMS = ("sha256", "sha512")


class ProblemKind(StrEnum):
    MISSING = "missing"  # listed in a manifest, not on disk
    ALTERED = "altered"  # on disk, checksum differs
    UNEXPECTED = "unexpected"  # on disk under data/, in no manifest
    STRUCTURE = "structure"  # not a bag, unreadable tag files, a required manifest absent


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    path: str  # relative to the bag
    detail: str = ""

    def line(self) -> str:
        return f"{self.kind.value}: {self.path}" + (f" ({self.detail})" if self.detail else "")


@dataclass(slots=True)
class VerifyReport:
    bag_dir: Path
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0
    algorithms: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        if self.ok:
            return [f"{self.bag_dir}: valid bag, {self.files_checked} files, "
                    f"checksums {', '.join(self.algorithms)} all match"]
        return [f"{self.bag_dir}: {len(self.problems)} problem(s)"] + [f"  {p.line()}" for p in self.problems]


def verify_archive(bag_dir: str | os.PathLike[str], *, processes: int = 1) -> VerifyReport:
    """Check a bag fully and keep going after the first problem, so every bad file is named:
    structure, both manifests present, completeness, then every payload and tag file's checksums."""
    report = VerifyReport(Path(bag_dir))
    try:
        bag = bagit.Bag(str(bag_dir))
        bag._validate_structure()
        bag._validate_bagittxt()
        bag.validate_fetch()
    except (bagit.BagError, OSError) as exc:
        report.problems.append(Problem(ProblemKind.STRUCTURE, ".", str(exc)))
        return report
    report.algorithms = tuple(bag.algorithms)
    for algorithm in REQUIRED_ALGORITHMS:
        if algorithm not in bag.algorithms:
            report.problems.append(Problem(ProblemKind.STRUCTURE, f"manifest-{algorithm}.txt",
                                           "required manifest is absent"))
    only_in_manifests, only_on_disk = bag.compare_manifests_with_fs()
    report.problems += [Problem(ProblemKind.MISSING, path, "listed in the manifest, not on disk")
                        for path in sorted(only_in_manifests)]
    report.problems += [Problem(ProblemKind.UNEXPECTED, path, "on disk, in no manifest")
                        for path in sorted(only_on_disk)]
    report.files_checked = len(bag.entries)
    missing = set(only_in_manifests)
    try:
        bag._validate_entries(processes)
    except bagit.BagValidationError as exc:
        report.problems += [p for p in _altered(exc) if p.path not in missing]
    if not report.problems:
        try:
            bag._validate_oxum()
        except bagit.BagError as exc:
            report.problems.append(Problem(ProblemKind.STRUCTURE, "bag-info.txt", str(exc)))
    return report


def _altered(exc: bagit.BagValidationError) -> list[Problem]:
    """One Problem per altered file, however many algorithms noticed it."""
    found: dict[str, set[str]] = {}
    for detail in exc.details or []:
        if isinstance(detail, bagit.ChecksumMismatch):
            found.setdefault(detail.path, set()).add(detail.algorithm)
    return [Problem(ProblemKind.ALTERED, path, f"{', '.join(sorted(algs))} checksum differs")
            for path, algs in sorted(found.items())]
