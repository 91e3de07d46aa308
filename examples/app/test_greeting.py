"""Unit tests run by the pipeline's CodeBuild action (buildspec.yml), with the standard library only."""

from __future__ import annotations

import unittest

from greeting import greet


class GreetTest(unittest.TestCase):
    def test_greets_by_name(self) -> None:
        assert "Hello, Ada!" == greet("Ada")

    def test_blank_name_gets_generic_greeting(self) -> None:
        assert "Hello, world!" == greet("   ")


if __name__ == "__main__":
    unittest.main()
