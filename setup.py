"""Puts the shipped resources (vehicles, packages, baselines, icons: the top-level resources/
folder) into every wheel as workshop/resources/, where workshop.foundation.paths finds them
in an installed copy. An editable install and the source tree use resources/ in place;
everything else about the project is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        source = ROOT / "resources"
        if not self.editable_mode and source.is_dir():
            shutil.copytree(source, Path(self.build_lib) / "workshop" / "resources",
                            dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithResources})
