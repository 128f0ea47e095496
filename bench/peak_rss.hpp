#pragma once
// For bench/run: each bench client prints, as its very last line, its own peak RSS
// (`peak_rss_kb N`, the kernel's VmHWM of this image). bench/run samples VmHWM from outside
// every 20 ms and so misses what a client allocates in its last moments (wsload's report at the
// end of an idle run: ~2 MB), which made the idle base of the hold workload too low and the RSS
// per connection too high; wait4's ru_maxrss cannot replace it (it also counts the forked
// Python before the exec). No wsload code: the raw baselines use it too.

#include <cstdio>
#include <cstring>

inline void print_peak_rss()
{
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return;
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, "VmHWM:", 6) == 0) {
            long kb = 0;
            if (std::sscanf(line + 6, "%ld", &kb) == 1) std::printf("peak_rss_kb %ld\n", kb);
            break;
        }
    }
    std::fclose(f);
    std::fflush(stdout);
}
