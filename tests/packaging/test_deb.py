"""The Debian packages of `make deb` (docs/packaging.md): built with the `deb` target, unpacked
with dpkg -x into a scratch root, checked file by file, and passed through lintian.

CTest sets FULCRUM_BUILD_DIR, FULCRUM_SOURCE_DIR, FULCRUM_VERSION and FULCRUM_CXX
(tests/packaging/CMakeLists.txt).
"""

import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD_DIR = os.environ["FULCRUM_BUILD_DIR"]
SOURCE_DIR = os.environ["FULCRUM_SOURCE_DIR"]
VERSION = os.environ["FULCRUM_VERSION"]
PROGRAMS = ["fulcrum", "fulcrum-agent", "fulcrum-sim"]


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result.stdout


def control_field(deb, field):
    return run(["dpkg-deb", "--field", deb, field]).strip()


class DebianPackages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # What `make deb` runs; builds the programs first if they are not yet.
        run(["cmake", "--build", BUILD_DIR, "--target", "deb"])
        packages = os.path.join(BUILD_DIR, "packages")
        cls.server_deb = os.path.join(packages, f"fulcrum_{VERSION}_amd64.deb")
        cls.dev_deb = os.path.join(packages, f"libfulcrum-dev_{VERSION}_amd64.deb")
        cls.scratch = tempfile.mkdtemp(prefix="fulcrum-deb-")
        cls.server_root = os.path.join(cls.scratch, "server")
        cls.dev_root = os.path.join(cls.scratch, "dev")
        run(["dpkg", "-x", cls.server_deb, cls.server_root])
        run(["dpkg", "-x", cls.dev_deb, cls.dev_root])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.scratch, ignore_errors=True)

    def server_path(self, path):
        return os.path.join(self.server_root, path.lstrip("/"))

    def test_metadata_computed_depends_and_conffile(self):
        self.assertEqual(control_field(self.server_deb, "Package"), "fulcrum")
        self.assertEqual(control_field(self.server_deb, "Version"), VERSION)
        self.assertEqual(control_field(self.server_deb, "Section"), "net")
        depends = control_field(self.server_deb, "Depends")
        # dpkg-shlibdeps found the C and C++ runtimes the programs link; adduser is for postinst.
        for package in ["libc6", "libstdc++6", "adduser"]:
            self.assertRegex(depends, rf"(^|, ){re.escape(package)}\b", depends)
        self.assertTrue(control_field(self.server_deb, "Maintainer"))
        self.assertEqual(control_field(self.dev_deb, "Package"), "libfulcrum-dev")
        self.assertEqual(control_field(self.dev_deb, "Section"), "libdevel")
        with tempfile.TemporaryDirectory() as control:
            run(["dpkg-deb", "--control", self.server_deb, control])
            with open(os.path.join(control, "conffiles")) as f:
                self.assertEqual(f.read().split(), ["/etc/fulcrum/fulcrum.yaml"])
            with open(os.path.join(control, "postinst")) as f:
                postinst = f.read()
            self.assertIn("adduser --system", postinst)
            self.assertIn("deb-systemd-helper enable fulcrum.service", postinst)
            with open(os.path.join(control, "postrm")) as f:
                self.assertIn("rm -rf /var/lib/fulcrum", f.read())

    def test_packaged_configuration_passes_check_with_the_packaged_binary(self):
        config = self.server_path("/etc/fulcrum/fulcrum.yaml")
        result = subprocess.run([self.server_path("/usr/bin/fulcrum"), "--check", "-c", config],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("is valid", result.stdout)

    def test_programs_are_stripped_and_run(self):
        for program in PROGRAMS:
            path = self.server_path(f"/usr/bin/{program}")
            sections = run(["readelf", "--section-headers", "--wide", path])
            self.assertNotIn(".debug_info", sections, program)
            self.assertNotIn(".symtab", sections, program)
            self.assertIn("Usage:", run([path, "--help"]), program)

    def test_unit_runs_the_packaged_binary_with_the_packaged_config_as_the_created_user(self):
        with open(self.server_path("/lib/systemd/system/fulcrum.service")) as f:
            lines = [line.strip() for line in f]
        self.assertIn("ExecStart=/usr/bin/fulcrum -c /etc/fulcrum/fulcrum.yaml", lines)
        for line in lines:
            if line.startswith(("ExecStart", "ExecReload")) and "fulcrum" in line:
                for path in re.findall(r"/\S+", line.split("=", 1)[1]):
                    if path.startswith(("/usr/bin/fulcrum", "/etc/fulcrum")):
                        self.assertTrue(os.path.exists(self.server_path(path)), line)
        self.assertIn("User=fulcrum", lines)
        self.assertIn("Group=fulcrum", lines)

    def test_manual_pages_carry_every_option_of_help(self):
        for program in PROGRAMS:
            with gzip.open(self.server_path(f"/usr/share/man/man1/{program}.1.gz"), "rt") as f:
                page = f.read().replace("\\-", "-")
            self.assertRegex(page, rf'\.TH {program.upper().replace("-", "[-]")} "1"')
            self.assertNotIn(BUILD_DIR, page, "the usage line names the program, not its path")
            help_text = run([self.server_path(f"/usr/bin/{program}"), "--help"])
            options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text))
            self.assertTrue(options, help_text)
            for option in options:
                self.assertIn(option, page, f"{program}(1) lacks {option}")

    def test_docs_and_copyright(self):
        doc = self.server_path("/usr/share/doc/fulcrum")
        for name in ["README.md", "configuration.md", "admin.md", "packaging.md", "copyright",
                     "changelog.gz"]:
            self.assertTrue(os.path.isfile(os.path.join(doc, name)), name)
        with open(os.path.join(doc, "copyright")) as f:
            self.assertTrue(f.read().startswith("Format: https://www.debian.org/doc/"))
        dev_doc = os.path.join(self.dev_root, "usr/share/doc/libfulcrum-dev")
        self.assertTrue(os.path.isfile(os.path.join(dev_doc, "copyright")))

    def test_dev_package_holds_library_headers_cmake_package_and_pkg_config(self):
        files = []
        for directory, _, names in os.walk(self.dev_root):
            files += [os.path.relpath(os.path.join(directory, n), self.dev_root) for n in names]
        for ending in ["usr/include/fulcrum/client.h", "usr/include/fulcrum/client/connector.h",
                       "/cmake/Fulcrum/FulcrumConfig.cmake",
                       "/cmake/Fulcrum/FulcrumTargets.cmake", "/pkgconfig/fulcrum.pc",
                       "/libfulcrum.a"]:
            self.assertTrue([f for f in files if f.endswith(ending)], f"{ending} in {files}")
        self.assertFalse([f for f in files if f.startswith(("usr/bin", "etc"))], files)

    def test_consumer_builds_against_the_unpacked_dev_package(self):
        # The .pc file's prefix is relative to itself, so the unpacked root works as installed.
        pc_dirs = {os.path.dirname(os.path.join(d, n))
                   for d, _, names in os.walk(self.dev_root) for n in names if n == "fulcrum.pc"}
        self.assertEqual(len(pc_dirs), 1, pc_dirs)
        env = dict(os.environ, PKG_CONFIG_PATH=pc_dirs.pop())
        flags = run(["pkg-config", "--cflags", "--libs", "fulcrum"], env=env).split()
        self.assertTrue(any(self.dev_root in flag for flag in flags), flags)
        example = os.path.join(self.scratch, "client-example")
        run([os.environ["FULCRUM_CXX"], "-std=c++20",
             os.path.join(SOURCE_DIR, "examples/client/main.cc"), "-o", example] + flags)
        self.assertIn("connected to 127.0.0.1:", run([example]))

    def test_lintian_finds_no_errors(self):
        for deb in [self.server_deb, self.dev_deb]:
            result = subprocess.run(["lintian", "--fail-on", "error", deb], capture_output=True,
                                    text=True, timeout=240)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertNotRegex(result.stdout, r"(?m)^E: ", result.stdout)


if __name__ == "__main__":
    unittest.main()
