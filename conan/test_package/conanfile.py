"""wsload's Conan test package: builds a scenario with wsload_add_scenario and a Beast echo
server, starts the server on 127.0.0.1, runs the scenario against it and checks its result
file: every user connected, every request answered with its own message.
"""
import json
import os
import select
import subprocess

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import can_run
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout

USERS = 4  # echo_scenario.cpp's .users(4)


class WsloadTestPackageConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        toolchain = CMakeToolchain(self)
        toolchain.user_presets_path = False  # write nothing into the source tree
        toolchain.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if not can_run(self):
            return
        bindir = os.path.join(self.build_folder, self.cpp.build.bindir)
        result = os.path.join(self.build_folder, "result.json")
        if os.path.exists(result):
            os.remove(result)
        server = subprocess.Popen([os.path.join(bindir, "echo_server")], stdout=subprocess.PIPE,
                                  text=True)
        try:
            port = self._wait_for_port(server, timeout_s=30)
            run = subprocess.run(
                [os.path.join(bindir, "echo_scenario"), "--target", f"ws://127.0.0.1:{port}/ws",
                 "--quiet", "--json", result],
                capture_output=True, text=True, timeout=60)
            self.output.info(run.stdout + run.stderr)
            if run.returncode != 0:
                raise ConanException(f"echo_scenario exited with status {run.returncode}")
        finally:
            server.terminate()
            server.wait(timeout=10)
        self._check(result)

    @staticmethod
    def _wait_for_port(server, timeout_s):
        ready, _, _ = select.select([server.stdout], [], [], timeout_s)
        line = server.stdout.readline() if ready else ""
        if not line.startswith("listening on "):
            raise ConanException(f"echo_server did not start within {timeout_s} s: {line!r}")
        return int(line.rsplit(":", 1)[1])

    def _check(self, path):
        with open(path) as f:
            doc = json.load(f)
        conns, counters = doc["connections"], doc["counters"]
        facts = {
            "connections attempted": (conns["attempted"], USERS),
            "connections succeeded": (conns["succeeded"], USERS),
            "connections failed": (conns["failed"], 0),
            "disconnects": (conns["disconnects_total"], USERS),
            "users finished": (counters["users_finished"], USERS),
            "behaviour errors": (counters["behaviour_errors"], 0),
            "requests rejected": (counters["requests_rejected"], 0),
            "round trips recorded": (doc["histograms"]["round_trip"]["count"],
                                     counters["requests_answered"]),
        }
        wrong = [f"{name}: {got}, expected {want}" for name, (got, want) in facts.items()
                 if got != want]
        # Every user sends a request every ~100 ms for 1.5 s or more: at least one each.
        if counters["requests_answered"] < USERS:
            wrong.append(f"requests answered: {counters['requests_answered']}, expected >= {USERS}")
        if wrong:
            raise ConanException("echo_scenario's result: " + "; ".join(wrong))
        self.output.success(f"echo_scenario: {USERS}/{USERS} users connected, "
                            f"{counters['requests_answered']} round trips through the echo server")
