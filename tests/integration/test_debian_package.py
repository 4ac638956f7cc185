"""The Debian package as an operator uses it: built by scripts/package.sh from the tested binary,
installed with dpkg on this machine, checked (files, user, permissions, the installed config
validates with no -c), then removed and purged without leftovers."""
import grp
import os
import pwd
import re
import stat
import subprocess

import support

TOOLCHAIN = re.compile(r"\b(openjdk|default-jre|maven|clang|llvm|prometheus|rsyslog|docker|"
                       r"googletest|libgtest|libbenchmark|cmake|ninja|python3)", re.I)


def dpkg(*args, check=True):
    r = subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"dpkg {' '.join(args)} failed: {r.stdout}{r.stderr}")
    return r


def installed_state():
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "logship"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


class DebianPackageTest(support.TestCase):
    def build_package(self):
        r = subprocess.run(["bash", os.path.join(support.SOURCE_DIR, "scripts/package.sh"),
                            "--binary", support.LOGSHIP, "--out", self.tmp],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        deb = r.stdout.strip().splitlines()[-1]
        self.assertTrue(os.path.isfile(deb), deb)
        return deb

    def test_depends_are_the_binarys_libraries_only(self):
        deb = self.build_package()
        depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        names = [d.strip().split(" ")[0] for d in depends.split(",")]
        for lib in ("libc6", "libssl3", "librdkafka1", "libyaml-cpp0.7", "libsystemd0", "adduser"):
            self.assertIn(lib, names, depends)
        self.assertIsNone(TOOLCHAIN.search(depends), depends)
        self.assertEqual(subprocess.run(["dpkg-deb", "-f", deb, "Package"], capture_output=True,
                                        text=True, check=True).stdout.strip(), "logship")
        conffiles = subprocess.run(["dpkg-deb", "--ctrl-tarfile", deb], capture_output=True,
                                   check=True).stdout
        self.assertIn(b"conffiles", conffiles)

    def test_install_validate_remove_purge(self):
        if os.geteuid() != 0:
            self.fail("installing a package needs root (CI runs as root)")
        state = installed_state()
        self.assertFalse(state.startswith("i"),
                         "a logship package is already installed here; this test will not replace it")
        deb = self.build_package()
        self.addCleanup(lambda: dpkg("-P", "logship", check=False))
        dpkg("-i", deb)
        self.assertEqual(installed_state(), "ii")

        # Files and their modes.
        st = os.stat("/usr/bin/logship")
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o755)
        with open("/etc/logship/logship.yaml") as f, \
                open(os.path.join(support.SOURCE_DIR, "config/default.yaml")) as g:
            self.assertEqual(f.read(), g.read())
        with open("/lib/systemd/system/logship.service") as f:
            unit = f.read()
        self.assertIn("\nExecStart=/usr/bin/logship run -c /etc/logship/logship.yaml\n", unit)
        self.assertIn("\nType=notify\n", unit)
        examples = sorted(os.listdir("/usr/share/doc/logship/examples"))
        self.assertEqual(examples, ["docker-to-elasticsearch.yaml", "docker-to-files.yaml",
                                    "docker-to-kafka.yaml", "docker-to-syslog.yaml"])

        # The service user and the directories only it may write.
        user = pwd.getpwnam("logship")
        self.assertLess(user.pw_uid, 1000, "a system user")
        self.assertEqual(user.pw_shell, "/usr/sbin/nologin")
        self.assertEqual(grp.getgrgid(user.pw_gid).gr_name, "logship")
        for d in ("/var/lib/logship", "/var/log/logship"):
            st = os.stat(d)
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                             (user.pw_uid, user.pw_gid, 0o750), d)

        # The installed binary finds the installed config without being told.
        env = {k: v for k, v in os.environ.items() if k != "LOGSHIP_CONFIG"}
        r = subprocess.run(["/usr/bin/logship", "validate"], capture_output=True, text=True,
                           env=env, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "/etc/logship/logship.yaml: OK "
                                   "(1 inputs, 0 processors, 1 outputs, 1 routes)\n")
        # A piece dropped into conf.d is merged in.
        self.assertEqual(os.listdir("/etc/logship/conf.d"), [])
        piece = "/etc/logship/conf.d/50-discard.yaml"
        with open(piece, "w") as f:
            f.write("outputs:\n  discard: {type: null}\n")
        r = subprocess.run(["/usr/bin/logship", "validate"], capture_output=True, text=True,
                           env=env, timeout=30)
        os.unlink(piece)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "/etc/logship/logship.yaml: OK "
                                   "(1 inputs, 0 processors, 2 outputs, 1 routes)\n"
                                   f"  merged {piece}\n")
        for name in examples:
            path = os.path.join("/usr/share/doc/logship/examples", name)
            r = subprocess.run(["/usr/bin/logship", "validate", "--offline", "-c", path],
                               capture_output=True, text=True, env=env, timeout=30)
            self.assertEqual(r.returncode, 0, (name, r.stderr))

        # remove keeps the (edited) conffile and the state; purge takes them.
        with open("/etc/logship/logship.yaml", "a") as f:
            f.write("# edited by the operator\n")
        dpkg("-r", "logship")
        self.assertEqual(installed_state(), "rc")
        self.assertFalse(os.path.exists("/usr/bin/logship"))
        self.assertFalse(os.path.exists("/lib/systemd/system/logship.service"))
        with open("/etc/logship/logship.yaml") as f:
            self.assertTrue(f.read().endswith("# edited by the operator\n"))
        dpkg("-P", "logship")
        self.assertEqual(installed_state(), "")
        for gone in ("/etc/logship", "/var/lib/logship", "/var/log/logship",
                     "/usr/share/doc/logship"):
            self.assertFalse(os.path.exists(gone), gone)


if __name__ == "__main__":
    support.main()
