#!/usr/bin/env python3
"""The layer check itself: it must reject an upward include, a sideways one and an unplaced
folder, and accept includes that point down."""
import pathlib
import subprocess
import sys
import tempfile
import unittest

CHECK = pathlib.Path(__file__).with_name('check_layers.py')
ARCHITECTURE = """# Architecture
<!-- layers:begin -->
```
app          | the top
left  right  | side by side
core
```
<!-- layers:end -->
"""


class CheckLayersTest(unittest.TestCase):
    def run_check(self, files: dict[str, str]) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory() as root:
            base = pathlib.Path(root)
            (base / 'docs').mkdir()
            (base / 'docs' / 'ARCHITECTURE.md').write_text(ARCHITECTURE)
            for name, text in files.items():
                path = base / 'src' / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            return subprocess.run([sys.executable, str(CHECK), root], capture_output=True,
                                  text=True)

    def test_downward_includes_pass(self):
        result = self.run_check({'app/main.cc': '#include "left/a.h"\n#include "core/c.h"\n',
                                 'left/a.h': '#include <vector>\n#include "core/c.h"\n',
                                 'core/c.h': '#include "core/d.h"\n'})
        self.assertEqual(result.returncode, 0, result.stdout)

    def test_upward_include_fails_with_its_position(self):
        result = self.run_check({'core/c.h': '#pragma once\n#include "app/x.h"\n',
                                 'app/x.h': ''})
        self.assertEqual(result.returncode, 1)
        self.assertIn('c.h:2: core includes app/', result.stdout)

    def test_sideways_include_fails(self):
        result = self.run_check({'left/a.cc': '#include "right/b.h"\n', 'right/b.h': ''})
        self.assertEqual(result.returncode, 1)
        self.assertIn('left includes right/', result.stdout)

    def test_unplaced_folder_fails(self):
        result = self.run_check({'stray/s.cc': '#include "core/c.h"\n'})
        self.assertEqual(result.returncode, 1)
        self.assertIn('not placed', result.stdout)


if __name__ == '__main__':
    unittest.main()
